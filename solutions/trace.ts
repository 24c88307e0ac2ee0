// `npm run trace -- <orderId>`: one order's trace, read from the spans every service keeps in its
// spans file (<service>.spans.sqlite in DATA_DIR), as a waterfall: which service handled which event when, and for how long.
import path from 'node:path';
import { defineCli, parseOrExit } from '../shared/cli/args.ts';
import { readEnv } from '../shared/config.ts';
import { describeError } from '../shared/log.ts';
import { readOrderSpans } from './observability/trace-reader.ts';
import { renderWaterfall } from './observability/waterfall.ts';

const TRACE_CLI = defineCli({
  command: 'npm run trace',
  synopsis: ['npm run trace -- <orderId> [--json]'],
  summary: `One order's trace: every publish and delivery of its events across the six services, as a
waterfall, from the spans each service keeps in <service>.spans.sqlite under DATA_DIR (kept for a day).
Run it where the services run (npm start writes to ./data).`,
  positionals: { name: '<orderId>', description: 'the order to show', min: 1, max: 1 },
  options: { json: { type: 'boolean', description: 'print the spans as JSON instead' } },
});

const { values, positionals } = parseOrExit(TRACE_CLI);
const orderId = positionals[0] as string;

try {
  const { DATA_DIR } = readEnv();
  const spans = readOrderSpans(DATA_DIR, orderId);
  if (values.json) {
    console.log(JSON.stringify(spans, null, 2));
  } else if (spans.length === 0) {
    console.error(`no spans of order ${orderId} in ${path.resolve(DATA_DIR)} (unknown order, older than a day, or another DATA_DIR)`);
    process.exitCode = 1;
  } else {
    const traces = [...new Set(spans.map((span) => span.traceId))];
    for (const traceId of traces) {
      const ofTrace = spans.filter((span) => span.traceId === traceId);
      console.log(
        `trace ${traceId}: order ${orderId}, ${ofTrace.length} spans in ${new Set(ofTrace.map((s) => s.service)).size} services\n`,
      );
      console.log(renderWaterfall(ofTrace).join('\n'));
      console.log('');
    }
  }
} catch (error) {
  console.error(`trace: ${describeError(error)}`);
  process.exitCode = 1;
}
