import { proveMilestone } from './prove-milestone.ts';

proveMilestone(2, () => import('../mutants/02-routing.ts'));
