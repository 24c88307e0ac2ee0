// Logs are for people: one line per event, a consistent prefix per service.
// `[inventory] reserved 2 items for order 123`. Errors go to stderr.

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
  child(suffix: string): Logger;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

export function createLogger(prefix: string, sink: { out: (line: string) => void; err: (line: string) => void } = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}): Logger {
  const tag = `[${prefix}]`;
  return {
    info: (message) => sink.out(`${tag} ${message}`),
    warn: (message) => sink.err(`${tag} warning: ${message}`),
    error: (message, error) => sink.err(`${tag} error: ${message}${error === undefined ? '' : `: ${describeError(error)}`}`),
    child: (suffix) => createLogger(`${prefix}:${suffix}`, sink),
  };
}

/** For tests and embedded use: keeps lines in memory instead of printing them. */
export function createMemoryLogger(prefix: string): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger(prefix, { out: (line) => lines.push(line), err: (line) => lines.push(line) });
  return Object.assign(logger, { lines });
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, child: () => silentLogger };
