import { proveMilestone } from '../../tests/prove-milestone.ts';

proveMilestone(6, () => import('./mutants.ts'));
