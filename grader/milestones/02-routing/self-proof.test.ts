import { proveMilestone } from '../../tests/prove-milestone.ts';

proveMilestone(2, () => import('./mutants.ts'));
