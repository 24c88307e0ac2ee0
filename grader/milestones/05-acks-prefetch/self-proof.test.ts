import { proveMilestone } from '../../tests/prove-milestone.ts';

proveMilestone(5, () => import('./mutants.ts'));
