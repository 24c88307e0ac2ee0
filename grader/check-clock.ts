// A check's timeout, which can stand still while the check waits for the environment, not the
// layer, and which counts only the time the grading process could run (stolen-time.ts): a machine
// too busy stretches it, up to MAX_STRETCH times; past that the check could not be judged.
// One clock per check run: nothing here outlives it.
import type { BrokerControl } from './broker-control.ts';
import { CheckFailure, machineTooBusy } from './check.ts';
import { type Budget, budget } from './stolen-time.ts';

export interface CheckClock {
  /** Starts the check's time; the promise rejects once it has run out: a CheckFailure, or CannotJudgeError when the machine took too much of it. */
  start(): Promise<never>;
  pause(): void;
  resume(): void;
  stop(): void;
}

export function checkClock(timeoutMs: number): CheckClock {
  let time: Budget | undefined;
  let timer: NodeJS.Timeout | undefined;
  let expire: (error: Error) => void = () => {};
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => {
        if (!time) return; // stopped
        if (time.left() > 0) return arm(); // the machine took some of it: the rest is still owed
        const { wallMs, stolenMs } = time.used();
        const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
        expire(
          time.shortChanged()
            ? machineTooBusy(
                `the check was still running after ${secs(wallMs)}, but the machine kept the grader from running for ${secs(stolenMs)} of them`,
              )
            : new CheckFailure(
                `the check to finish within ${timeoutMs / 1000} s`,
                'it was still waiting (something never arrived, or a call never returned)',
              ),
        );
      },
      Math.max(1, time?.left() ?? timeoutMs),
    );
  };
  return {
    start() {
      const timedOut = new Promise<never>((_, reject) => (expire = reject));
      time = budget(timeoutMs);
      arm();
      return timedOut;
    },
    pause() {
      clearTimeout(timer);
      time?.pause();
    },
    resume() {
      if (!time) return;
      time.resume();
      arm();
    },
    stop() {
      clearTimeout(timer);
      time = undefined;
    },
  };
}

/** The same control, with the check's clock standing still while it finds a broker to restart. */
export function outsideTheClock(control: BrokerControl, clock: CheckClock): BrokerControl {
  return {
    async acquireRestartable(options) {
      clock.pause();
      try {
        return await control.acquireRestartable(options);
      } finally {
        clock.resume();
      }
    },
  };
}
