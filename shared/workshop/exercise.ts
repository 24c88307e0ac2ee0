// What a milestone's starter code calls where the learner has work to do. The grader recognises the
// error and points the learner at the file and the 🐨 marker instead of showing a stack trace.
import path from 'node:path';
import { CliError } from '../cli/errors.ts';
import { fileURLToPath } from 'node:url';

export class ExerciseNotWrittenError extends CliError {
  constructor(
    readonly file: string,
    readonly what: string,
  ) {
    super(`${what} is not written yet: open ${file} and follow the 🐨 markers`);
    this.name = 'ExerciseNotWrittenError';
  }
}

/** `todo(import.meta.url, 'encode')` in a starter file: throws ExerciseNotWrittenError naming the file. */
export function todo(moduleUrl: string, what: string): never {
  const file = path.relative(process.cwd(), fileURLToPath(moduleUrl));
  throw new ExerciseNotWrittenError(file, what);
}
