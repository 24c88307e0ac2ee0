import { proveMilestone } from '../../tests/prove-milestone.ts';

proveMilestone(9, () => import('./mutants.ts'));
