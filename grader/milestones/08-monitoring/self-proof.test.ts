import { proveMilestone } from './prove-milestone.ts';

proveMilestone(8, () => import('../mutants/08-monitoring.ts'));
