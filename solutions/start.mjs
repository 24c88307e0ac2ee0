// `npm start` starts here, in plain JavaScript: the supervisor (start.ts), each service
// (run-service.ts) and the dashboard run from a bundle kept built (supervisor/bundle.mjs), without a
// TypeScript loader in any of the eight processes. START_NO_BUNDLE=1, or a bundle that cannot be
// built, runs them all through tsx instead, as `node --import tsx solutions/start.ts` does.
import { prepareStartBundle } from './supervisor/bundle.mjs';

const bundle = process.env.START_NO_BUNDLE === '1' ? undefined : await prepareStartBundle();
if (bundle) {
  // The supervisor runs its children from the same bundle (service-process.ts reads this).
  process.env.WORKSHOP_START_BUNDLE = JSON.stringify({ service: bundle['run-service'], dashboard: bundle['run-dashboard'] });
  await import(bundle.start);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./start.ts');
}
