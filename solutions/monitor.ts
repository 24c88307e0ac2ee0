// `npm run monitor`: a live table of every queue (ready, unacked, consumers, rates) through the
// management HTTP API (layer 8). The broker samples these numbers every few seconds, so they lag.
import { vhostOf } from '../shared/broker/broker-url.ts';
import { findBroker } from '../shared/broker/find-broker.ts';
import { defineCli, parseOrExit, runMain } from '../shared/cli/args.ts';
import type { QueueStats } from '../shared/layers/index.ts';
import { createLogger } from '../shared/log.ts';
import { referenceLayers } from './layers/index.ts';

const REFRESH_MS = 2000;

const MONITOR_CLI = defineCli({
  command: 'npm run monitor',
  synopsis: ['npm run monitor [-- --once]'],
  summary: `A live table of every queue of the broker's vhost: ready, unacked, consumers, publish and deliver
rates, from the management HTTP API (layer 8), redrawn every ${REFRESH_MS / 1000} s until Ctrl-C. The broker samples
these numbers every few seconds, so they lag.`,
  options: { once: { type: 'boolean', description: 'print the table once and exit (for scripts, or to keep a snapshot)' } },
});

const { values } = parseOrExit(MONITOR_CLI);

function render(stats: QueueStats[]): string {
  const header = ['queue', 'ready', 'unacked', 'consumers', 'publish/s', 'deliver/s'];
  const rows = stats.map((q) => [q.name, q.ready, q.unacked, q.consumers, q.publishRate.toFixed(1), q.deliverRate.toFixed(1)].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const broker = await findBroker({ log: createLogger('monitor'), mayStartBroker: false });
  const target = { ...broker.management, vhost: vhostOf(broker.url) };
  const once = values.once ?? false;
  for (;;) {
    const table = render(await referenceLayers.monitoring.listQueueStats(target));
    if (!once && process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
    console.log(`${new Date().toLocaleTimeString()}  vhost ${target.vhost}  (${target.baseUrl})\n\n${table}`);
    if (once) return;
    await new Promise((resolve) => setTimeout(resolve, REFRESH_MS));
  }
}

// No broker, or a management API that does not answer: exit 3; a bug: 4 (shared/cli/errors.ts).
await runMain(main);
