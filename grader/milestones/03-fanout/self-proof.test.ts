import { proveMilestone } from '../../tests/prove-milestone.ts';

proveMilestone(3, () => import('./mutants.ts'));
