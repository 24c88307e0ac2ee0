import { proveMilestone } from './prove-milestone.ts';

proveMilestone(1, () => import('../mutants/01-publish-consume.ts'));
