// `npm start` as a child process, as a learner runs it, for the tests that drive it: its output,
// waiting for a line with a deadline, and never leaving it running after a failed test.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { eventually } from './eventually.ts';

export interface StartProcess {
  /** stdout and stderr, interleaved as they arrived. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  signal(signal: NodeJS.Signals): void;
}

export function runStart(args: string[], env: NodeJS.ProcessEnv): StartProcess {
  // As `npm start` runs it: start.mjs, which runs the supervisor and its children from their bundle.
  const child = spawn(process.execPath, ['solutions/start.mjs', ...args], {
    env: { ...process.env, NO_COLOR: '1', DASHBOARD_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let done = false;
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  return { output: () => output, exited, hasExited: () => done, signal: (signal) => child.kill(signal) };
}

/** Waits for `what` in the output; fails at once, with the output, if the process exits first. */
export async function waitForOutput(run: StartProcess, what: string, timeoutMs: number): Promise<void> {
  const early = run.exited.then(({ code, signal }) => {
    throw new Error(`npm start exited (code ${code}, signal ${signal}) before printing "${what}". Output:\n${run.output()}`);
  });
  const seen = eventually(() => run.output().includes(what), { timeoutMs, intervalMs: 100, what: `"${what}" in the output` }).catch(
    (error: unknown) => {
      throw new Error(`${String(error)}. Output so far:\n${run.output()}`);
    },
  );
  await Promise.race([seen, early]);
}

export async function waitForExit(run: StartProcess, timeoutMs: number) {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`npm start did not exit within ${timeoutMs} ms. Output:\n${run.output()}`)), timeoutMs);
  });
  try {
    return await Promise.race([run.exited, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Never leaves a supervisor (and so its services) running after a failed test. */
export async function stopIfRunning(run: StartProcess | undefined): Promise<void> {
  if (!run || run.hasExited()) return;
  run.signal('SIGTERM');
  await waitForExit(run, 25_000).catch(() => run.signal('SIGKILL'));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
