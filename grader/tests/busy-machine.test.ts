// What tells a learner's endless loop from a busy machine, on real processes: the watchdog judges a
// silent child by its main thread's CPU time (grader/watchdog.ts), and the stolen-time meter counts
// the time this process's event loop stood still without spending CPU (grader/stolen-time.ts).
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CannotJudgeError, CheckFailure } from '../check.ts';
import { callTimeout, waitFor } from '../checks/support.ts';
import { stolenMs } from '../stolen-time.ts';
import { BLOCKED_CPU_MS, parsePsTime, type Silence, watchChild } from '../watchdog.ts';

/** A child that heartbeats every 250 ms for half a second, then runs `then` on its main thread. */
function silentChild(then: string): Promise<{ silence: Silence; afterMs: number }> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'watchdog-')), 'child.cjs');
  fs.writeFileSync(
    file,
    `const beat = setInterval(() => process.send({ type: 'heartbeat' }), 250);\nsetTimeout(() => { clearInterval(beat); ${then} }, 500);\n`,
  );
  const child = fork(file, [], { stdio: 'ignore' });
  const started = performance.now();
  return new Promise((resolve) => {
    const watchdog = watchChild(child.pid ?? -1, {
      startupMs: 30_000,
      stalledMs: 5000,
      onSilence(silence) {
        child.kill('SIGKILL');
        resolve({ silence, afterMs: performance.now() - started });
      },
    });
    child.on('message', () => watchdog.heard());
  });
}

describe('the watchdog tells a spinning child from one that stands still', () => {
  it('a synchronous endless loop is blocked, once its main thread has spent BLOCKED_CPU_MS of CPU', { timeout: 240_000 }, async () => {
    const { silence } = await silentChild('for (;;) {}');
    expect(silence.kind).toBe('blocked');
    expect(silence.cpuMs).toBeGreaterThanOrEqual(BLOCKED_CPU_MS);
  });

  it(
    'a child that waits without spending CPU (as on a busy disk) is never called blocked: could not judge',
    { timeout: 60_000 },
    async () => {
      // Atomics.wait: the main thread sleeps in the kernel, as it does in an fsync behind a busy disk.
      const { silence, afterMs } = await silentChild('Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600000);');
      expect(silence.kind).toBe('stalled');
      expect(afterMs).toBeGreaterThanOrEqual(5000);
    },
  );

  it("reads ps's CPU time on macOS and procps", () => {
    expect(parsePsTime('0:01.23')).toBeCloseTo(1230);
    expect(parsePsTime('00:00:07')).toBe(7000);
    expect(parsePsTime('1-02:03:04')).toBe(((26 * 60 + 3) * 60 + 4) * 1000);
    expect(parsePsTime('garbage')).toBeUndefined();
  });
});

describe('stolen time', () => {
  it('counts a wait that spends no CPU, and not code that spends it', async () => {
    const before = stolenMs();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 800); // the event loop stands still, without CPU
    await new Promise((resolve) => setTimeout(resolve, 100));
    const waited = stolenMs() - before;
    expect(waited).toBeGreaterThanOrEqual(600);

    const beforeSpin = stolenMs();
    const cpu = process.cpuUsage();
    const end = performance.now() + 800;
    while (performance.now() < end); // the event loop stands still, spending CPU
    const { user, system } = process.cpuUsage(cpu);
    const spentMs = (user + system) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Whatever of the 800 ms the machine did not give this process is stolen; what it spent is not.
    expect(stolenMs() - beforeSpin).toBeLessThanOrEqual(800 - spentMs + 250);
  });
});

describe("a check's waits count the time the grader could run", () => {
  /** Holds the event loop without spending CPU, as an fsync behind a busy disk does. */
  const standStill = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

  it('waitFor fails as before when it had its time, and is could-not-judge when the machine took it', async () => {
    // 1 s: only if the machine took more than 10 s of it would this be could-not-judge.
    await expect(
      waitFor(
        () => undefined,
        'something',
        () => 'nothing',
        1000,
      ),
    ).rejects.toBeInstanceOf(CheckFailure);
    // 200 ms of waiting, and the process stood still for 2.4 s of it: more than 10 times the wait.
    // (Not 50 ms: the meter can miss up to one 50 ms tick of a stand-still, plus what the process's
    // other threads spend meanwhile, and the wait must still come out short of its own length.)
    const waiting = waitFor(
      () => undefined,
      'something',
      () => 'nothing',
      200,
    );
    standStill(2400);
    await expect(waiting).rejects.toBeInstanceOf(CannotJudgeError);
  });

  it('waitFor stretches by what the machine took: what comes late because of it still arrives in time', async () => {
    let ready = false;
    const waiting = waitFor(
      () => (ready ? true : undefined),
      'ready',
      () => 'not ready',
      300,
    );
    standStill(400); // longer than the whole wait, but taken by the machine
    setTimeout(() => (ready = true), 100);
    await expect(waiting).resolves.toBe(true);
  });

  it('callTimeout aborts a call with a CheckFailure, or could-not-judge when the machine took the time', async () => {
    const plain = callTimeout(1000, 'GET /thing');
    await new Promise((resolve) => plain.addEventListener('abort', resolve));
    expect(plain.reason).toBeInstanceOf(CheckFailure);
    const starved = callTimeout(200, 'GET /thing'); // 200 ms and 2.4 s: as in the waitFor test above
    standStill(2400);
    await new Promise((resolve) => starved.addEventListener('abort', resolve));
    expect(starved.reason).toBeInstanceOf(CannotJudgeError);
  });
});
