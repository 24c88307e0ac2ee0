import { proveMilestone } from './prove-milestone.ts';

proveMilestone(3, () => import('../mutants/03-fanout.ts'));
