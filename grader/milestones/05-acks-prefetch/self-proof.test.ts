import { proveMilestone } from './prove-milestone.ts';

proveMilestone(5, () => import('../mutants/05-acks-prefetch.ts'));
