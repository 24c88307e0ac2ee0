import { proveMilestone } from './prove-milestone.ts';

proveMilestone(7, () => import('../mutants/07-rpc.ts'));
