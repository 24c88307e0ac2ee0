import { proveMilestone } from '../../tests/prove-milestone.ts';

proveMilestone(4, () => import('./mutants.ts'));
