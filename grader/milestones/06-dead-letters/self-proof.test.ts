import { proveMilestone } from './prove-milestone.ts';

proveMilestone(6, () => import('../mutants/06-dead-letters.ts'));
