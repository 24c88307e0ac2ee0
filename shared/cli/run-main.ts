// Every entry point of the workshop (the learner's commands, the grader, the services, the scripts)
// runs through runMain, so that whatever ends it is said the same way and exits with the status of
// whose fault it is (errors.ts): help on stdout (0), a problem to fix (1), a wrong command line and
// the usage (2), an environment that cannot be used (3), a bug in the workshop with its stack trace
// and where to report it (4). Anything thrown that is not a WorkshopError is a bug, unless it is a
// system call the machine refused (a port taken, nothing listening): the environment's.
import { kindOf, REPORT_A_BUG, UsageError, WorkshopError, EXIT_STATUS } from './errors.ts';

/** What a thrown value says to people, by its kind. */
export function formatError(error: unknown): string {
  const kind = kindOf(error);
  if (kind === 'help') return error instanceof WorkshopError ? error.message : String(error);
  if (error instanceof UsageError)
    return `${error.command ? `${error.command}: ` : ''}${error.message}${error.usage ? `\n\n${error.usage}` : ''}`;
  const message = error instanceof Error ? error.message : String(error);
  if (kind === 'environment') return `error: ${message}`;
  if (kind === 'bug') return `${(error instanceof Error && error.stack) || message}\n\n${REPORT_A_BUG}`;
  return message;
}

/** Prints what ended the command (stdout for help, stderr otherwise) and returns its exit status. */
export function reportError(error: unknown): number {
  const status = EXIT_STATUS[kindOf(error)];
  const text = formatError(error);
  if (status === 0) process.stdout.write(`${text}\n`);
  else process.stderr.write(`${text}\n`);
  return status;
}

/**
 * Runs a command's `main`: its number becomes the exit status; what it throws is reported by kind.
 * Sets process.exitCode; it does not call process.exit (pending output is written first).
 */
export async function runMain(main: () => Promise<number | void> | number | void): Promise<void> {
  try {
    const code = await main();
    if (typeof code === 'number') process.exitCode = code;
  } catch (error) {
    process.exitCode = reportError(error);
  }
}

/** Reports `error` as runMain does and exits the process now (a top-level parse in a script with side effects at import). */
export function exitWith(error: unknown): never {
  process.exit(reportError(error));
}
