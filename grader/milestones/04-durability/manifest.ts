// Milestone 4 in the grader's list of milestones (grader/manifest.ts): its title, its goal (one sentence:
// what the learner builds and why the order system needs it) and its grading time budget
// (docs/grader-performance.md). Its number, slug and layer come from LAYER_MILESTONES in shared/layers/index.ts.
export const title = 'Durability and publisher confirms';
export const goal = 'Survive a broker restart, and only call a message sent once the broker has confirmed it.';
export const budgetMs = 20000;
