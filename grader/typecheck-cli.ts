// Child of grading-process.ts: type-checks one exercise file and sends back its errors.
import { typeErrorsIn } from './typecheck.ts';

const file = process.argv[2];
let errors: string[] = [];
try {
  if (file) errors = typeErrorsIn(file);
} catch {
  // A compiler that cannot run says nothing about the learner's code.
}
process.send?.({ errors }, () => process.exit(0));
