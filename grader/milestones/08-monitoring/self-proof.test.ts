import { proveMilestone } from '../../tests/prove-milestone.ts';

proveMilestone(8, () => import('./mutants.ts'));
