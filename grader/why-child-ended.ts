// What the parent (grading-process.ts) makes of a grading child that ended without a result: the
// checks it was running fail when the graded code ended it (process.exit, a crash, a blocked event
// loop), and are "could not judge" when the child stood still on a machine too busy.
import { machineTooBusy } from './check.ts';
import type { CheckResult } from './runner.ts';
import type { Silence } from './watchdog.ts';

/** What the checks that were running when a child ended get: a fail for what the graded code did, an error when the grader cannot tell. */
export function whyItEnded(
  silence: Silence | undefined,
  code: number | null,
  signal: NodeJS.Signals | null,
): Pick<CheckResult, 'status' | 'message'> {
  const secs = (ms: number) => `${Math.round(ms / 1000)} s`;
  if (silence?.kind === 'blocked') {
    const spent = Number.isNaN(silence.cpuMs) ? '' : `, spending ${secs(silence.cpuMs)} of CPU`;
    return {
      status: 'fail',
      message: `your code blocked the event loop for ${secs(silence.silentMs)}${spent} (a synchronous endless loop?), so the grader stopped it`,
    };
  }
  if (silence?.kind === 'stalled') {
    const what = silence.startup
      ? `the grading process did not start within ${secs(silence.silentMs)}`
      : `the grading process stood still for ${secs(silence.silentMs)} without using the CPU (waiting for a busy disk or for a CPU; or your code waits synchronously: execSync, Atomics.wait)`;
    return { status: 'error', message: machineTooBusy(what).message };
  }
  return {
    status: 'fail',
    message: `your code ended the grading process (${signal ? `signal ${signal}` : `process.exit(${code})`}, or a crash) while this check ran`,
  };
}
