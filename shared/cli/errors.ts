// Whose fault it is, for every command of the workshop and for the grader: one model, one exit status each.
//   - learner:     the person running the command can fix it (a wrong layer, no audit log yet): exit 1;
//   - usage:       the command line itself is wrong: the problem and the usage, exit 2;
//   - environment: the broker does not answer, the machine is too busy, a port is taken: nobody's
//                  code is wrong and the grader could not judge: exit 3, never a fail;
//   - bug:         the workshop's own code went wrong: it says so, with where to report it, exit 4.
// --help is a "kind" too (exit 0), so that a command never has to special-case it.
// An error crosses a process boundary (the grading child to `npm run grade`) as its `kind` and
// message (toWire / fromWire), never recognised by its class's name.

export type ErrorKind = 'help' | 'learner' | 'usage' | 'environment' | 'bug';

/** The exit status of each kind; 0 and 1 are also a grading's "every check passes" and "a check fails". */
export const EXIT_STATUS: Readonly<Record<ErrorKind, number>> = { help: 0, learner: 1, usage: 2, environment: 3, bug: 4 };

/** Where a bug in the workshop is reported: package.json names no issue tracker, so the output itself is the report. */
export const REPORT_A_BUG = 'This is a bug in the workshop, not in your code: please report it with this output.';

/** The base of every error the workshop throws on purpose: a message for people, and whose fault it is. */
export class WorkshopError extends Error {
  constructor(
    message: string,
    readonly kind: ErrorKind,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  get exitCode(): number {
    return EXIT_STATUS[this.kind];
  }
}

/** A problem the person running the command can fix, said in words: the message, no stack trace, exit 1. */
export class CliError extends WorkshopError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'learner', options);
  }
}

/** The command line itself is wrong: the problem (message), then the usage, exit 2. */
export class UsageError extends WorkshopError {
  /**
   * @param usage the usage text to print after the problem (empty: the command prints its own)
   * @param command the prefix of the problem line, e.g. `npm run reset`
   */
  constructor(
    problem: string,
    readonly usage = '',
    readonly command = '',
  ) {
    super(problem, 'usage');
  }
}

/** `--help` or `-h` was given: the usage on stdout, exit 0. */
export class HelpRequested extends WorkshopError {
  constructor(readonly usage: string) {
    super(usage, 'help');
  }
}

/** The environment is unusable (no broker, no management API, a machine too busy): could not judge, exit 3. */
export class EnvironmentError extends WorkshopError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'environment', options);
  }
}

/** Something the workshop itself got wrong (the checks do not load, a grading child that never listed them): exit 4. */
export class WorkshopBug extends WorkshopError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'bug', options);
  }
}

/** Node's codes for a machine that cannot do what was asked right now: the environment, not a bug. */
const ENVIRONMENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EADDRINUSE',
  'EADDRNOTAVAIL',
  'ENOSPC',
  'EMFILE',
  'ENOMEM',
]);

/** Whose fault a thrown value is: a WorkshopError says so; a system call the machine refused is the environment's; anything else is a bug. */
export function kindOf(error: unknown): ErrorKind {
  if (error instanceof WorkshopError) return error.kind;
  // fetch's "fetch failed" carries the refused connection as its cause: look a few causes down.
  for (let cause = error, depth = 0; cause && depth < 4; cause = (cause as { cause?: unknown }).cause, depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && ENVIRONMENT_CODES.has(code)) return 'environment';
  }
  return 'bug';
}

/** An error as it crosses a process boundary (IPC, JSON): its kind, its message, and for a bug its stack. */
export interface WireError {
  kind: ErrorKind;
  message: string;
  stack?: string;
}

export function toWire(error: unknown): WireError {
  const kind = kindOf(error);
  const message = error instanceof Error ? error.message : String(error);
  return kind === 'bug' && error instanceof Error && error.stack ? { kind, message, stack: error.stack } : { kind, message };
}

/** The error a WireError stands for, of its kind, to throw on this side. */
export function fromWire(wire: WireError): WorkshopError {
  const error = new WorkshopError(wire.message, wire.kind);
  if (wire.stack) error.stack = wire.stack;
  return error;
}
