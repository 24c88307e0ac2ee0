// One log stream for all services: every line keeps (or gets) its `[service]` prefix and, on a
// terminal, a colour per service, so six interleaved logs stay readable.
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { batchedWriter } from '../../shared/log.ts';

/** ANSI SGR codes; the supervisor's own lines are bold. */
const COLORS: Record<string, string> = {
  order: '36', // cyan
  inventory: '33', // yellow
  payment: '32', // green
  shipping: '94', // bright blue (plain blue is hard to read on dark terminals)
  notification: '35', // magenta
  audit: '37', // light grey
  start: '1', // bold
};

/** Colour only for a person at a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colorEnabled(env: NodeJS.ProcessEnv, stream: { isTTY?: boolean }): boolean {
  return !env.NO_COLOR && stream.isTTY === true;
}

/** `[source] line`, coloured when asked. A line the service already prefixed (`[order]`, `[order:http]`) is kept as it is. */
export function formatLine(source: string, line: string, color: boolean): string {
  const prefixed = line.startsWith(`[${source}]`) || line.startsWith(`[${source}:`) ? line : `[${source}] ${line}`;
  const code = COLORS[source];
  return color && code !== undefined ? `\x1b[${code}m${prefixed}\x1b[0m` : prefixed;
}

export interface LogStream {
  line(source: string, text: string): void;
  /** Forwards a child's output line by line (a chunk may end mid-line). */
  pipe(source: string, stream: Readable): void;
}

export function createLogStream(output: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): LogStream {
  const color = colorEnabled(env, output);
  // A reader that went away (`npm start | head`) must not crash the supervisor while it stops services.
  output.on('error', () => {});
  const write = batchedWriter(output);
  const line = (source: string, text: string) => {
    write(`${formatLine(source, text.replace(/\r$/, ''), color)}\n`);
  };
  return {
    line,
    pipe(source, stream) {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (text) => line(source, text));
    },
  };
}
