// Milestone 8 in the grader's list of milestones (grader/manifest.ts): its title, its goal (one sentence:
// what the learner builds and why the order system needs it) and its grading time budget
// (docs/grader-performance.md). Its number, slug and layer come from LAYER_MILESTONES in shared/layers/index.ts.
export const title = 'Monitoring through the management API';
export const goal =
  'Read queue depths, unacked counts, consumers and rates from the management HTTP API, for any vhost, as any user, and say so when it refuses.';
export const budgetMs = 8000;
// Seven checks talk to a fake management API and are quick; one waits for the real broker's
// statistics sample (collect_statistics_interval): they run at the same time.
export const concurrentChecks = true;
