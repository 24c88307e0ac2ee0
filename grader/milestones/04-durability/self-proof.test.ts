import { proveMilestone } from './prove-milestone.ts';

proveMilestone(4, () => import('../mutants/04-durability.ts'));
