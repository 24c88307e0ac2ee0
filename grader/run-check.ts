// One check's run, start to end: prepare its environment (a vhost, the system with the graded layer
// plugged in), run it against its clock, capture what it throws uncaught, clean up, and judge.
// Everything it keeps lives in the Grading it is given, one per milestone graded.
import type { Layers } from '../shared/layers/index.ts';
import type { Check } from './check.ts';
import { checkClock, outsideTheClock } from './check-clock.ts';
import { createCheckContext, type GradingEnvironment } from './context.ts';
import type { Milestone } from './manifest.ts';
import type { CheckResult } from './runner.ts';
import type { StrayCapture } from './stray-errors.ts';
import { type CheckVerdict, judgeThrown, notPrepared, withStrays } from './verdict.ts';

export const DEFAULT_CHECK_TIMEOUT_MS = 5000;

/** The state of one milestone's grading: what its checks threw uncaught, and the vhosts still being deleted. */
export interface Grading {
  strays: StrayCapture;
  /** Vhosts of finished checks being deleted in the background; awaited before grading returns. */
  pendingDeletions: Promise<void>[];
  /** Vhosts created ahead for checks not started yet, by check id (the runner's; deleted at the end if unused). */
  vhostsAhead: Map<string, Promise<string>>;
}

export async function runCheck(
  grading: Grading,
  environment: GradingEnvironment,
  milestone: Milestone,
  layer: unknown,
  check: Check,
  announce: (message: string) => void,
): Promise<CheckResult> {
  const started = Date.now();
  const timeoutMs = check.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const base = { id: check.id, name: check.name, hint: check.hint };
  const clock = checkClock(timeoutMs);
  const strays: unknown[] = [];
  let verdict: CheckVerdict = { status: 'pass' };
  let serviceLog: string[] = [];
  await grading.strays.during(check.id, strays, async () => {
    let handle;
    try {
      // Waiting for a broker it may restart (a slow throwaway node, the learner's answer) is not the layer's time.
      handle = await createCheckContext(
        { ...environment, brokerControl: outsideTheClock(environment.brokerControl, clock) },
        milestone.layer,
        layer as Layers[typeof milestone.layer],
        check.id,
        announce,
        grading.vhostsAhead.get(check.id),
      );
      grading.vhostsAhead.delete(check.id);
    } catch (error) {
      verdict = notPrepared(error);
      return;
    }
    serviceLog = handle.serviceLog;
    const timedOut = clock.start();
    try {
      await Promise.race([check.run(handle.context as never), timedOut]);
    } catch (error) {
      verdict = judgeThrown(error);
    } finally {
      clock.stop();
      handle.abort();
      const { vhostDeleted } = await handle.cleanup();
      grading.pendingDeletions.push(vhostDeleted);
    }
    strays.push(...handle.strays);
  });
  verdict = withStrays(verdict, strays);
  const log = verdict.status !== 'pass' && serviceLog.length > 0 ? serviceLog.slice(-15) : undefined;
  return { ...base, ...verdict, durationMs: Date.now() - started, ...(log ? { serviceLog: log } : {}) };
}
