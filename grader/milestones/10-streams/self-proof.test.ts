import { proveMilestone } from '../../tests/prove-milestone.ts';

// 18 variants, each graded on all six checks, every one of which waits on the broker: 2 to 3 minutes.
proveMilestone(10, () => import('./mutants.ts'), { mutantsTimeoutMs: 360_000 });
