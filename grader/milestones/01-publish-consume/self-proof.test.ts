import { proveMilestone } from '../../tests/prove-milestone.ts';

proveMilestone(1, () => import('./mutants.ts'));
