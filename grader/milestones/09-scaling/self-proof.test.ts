import { proveMilestone } from './prove-milestone.ts';

proveMilestone(9, () => import('../mutants/09-scaling.ts'));
