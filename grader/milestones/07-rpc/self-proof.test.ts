import { proveMilestone } from '../../tests/prove-milestone.ts';

proveMilestone(7, () => import('./mutants.ts'));
