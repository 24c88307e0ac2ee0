import { proveMilestone } from '../../tests/prove-milestone.ts';

proveMilestone(10, () => import('./mutants.ts'));
