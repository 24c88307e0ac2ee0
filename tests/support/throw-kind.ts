// A command that ends with the kind of error its argument names, through runMain: the exit-status test spawns it.
import { CliError, EnvironmentError, HelpRequested, UsageError, WorkshopBug } from '../../shared/cli/errors.ts';
import { runMain } from '../../shared/cli/run-main.ts';

const THROWN: Record<string, () => unknown> = {
  help: () => new HelpRequested('Usage: throw-kind <kind>'),
  learner: () => new CliError('your file is missing'),
  usage: () => new UsageError('no such option --x', 'Usage: throw-kind <kind>', 'throw-kind'),
  environment: () => new EnvironmentError('no broker answers'),
  refused: () =>
    Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
    }),
  bug: () => new WorkshopBug('the checks do not load'),
  thrown: () => new TypeError('cannot read properties of undefined'),
};

await runMain(() => {
  const make = THROWN[process.argv[2] ?? ''];
  if (!make) return 0;
  throw make();
});
