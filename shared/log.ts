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

export function createLogger(
  prefix: string,
  sink: { out: (line: string) => void; err: (line: string) => void } = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  },
): Logger {
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

/**
 * Lines written together: everything logged in one turn of the event loop goes out in one write
 * (a write to a pipe is a system call, and at a thousand messages a second one per line shows in
 * the profile). Whatever is left is written before the process exits.
 */
export function batchedWriter(stream: NodeJS.WritableStream): (text: string) => void {
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!pending) return;
    const text = pending;
    pending = '';
    stream.write(text);
  };
  process.once('exit', flush);
  return (text) => {
    pending += text;
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}

/** Per second, at most this many informational lines from one service; warnings and errors always. */
const INFO_LINES_PER_SECOND = 50;

/**
 * A service's sink for stdout and stderr. Informational lines are one per message handled, which
 * is what a person wants to read at a few orders a second and nobody can read at a hundred: past
 * INFO_LINES_PER_SECOND in a second the rest are counted, and one line says how many were left out.
 */
export function serviceLogSink(
  prefix: string,
  limit = INFO_LINES_PER_SECOND,
  streams: { out: NodeJS.WritableStream; err: NodeJS.WritableStream } = { out: process.stdout, err: process.stderr },
): { out: (line: string) => void; err: (line: string) => void } {
  const out = batchedWriter(streams.out);
  const err = batchedWriter(streams.err);
  let windowStart = 0;
  let shown = 0;
  let skipped = 0;
  let timer: NodeJS.Timeout | undefined;
  const report = () => {
    timer = undefined;
    if (skipped > 0)
      out(
        `[${prefix}] … and ${skipped} more lines like these in the last second, not shown (more than ${limit} a second; warnings and errors are always shown)\n`,
      );
    skipped = 0;
  };
  return {
    out: (line) => {
      const now = Date.now();
      if (now - windowStart >= 1000) {
        if (skipped > 0) report();
        windowStart = now;
        shown = 0;
      }
      if (shown < limit) {
        shown++;
        out(`${line}\n`);
        return;
      }
      skipped++;
      timer ??= setTimeout(report, 1000 - (now - windowStart)).unref();
    },
    err: (line) => err(`${line}\n`),
  };
}
