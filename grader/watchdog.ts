// When the grading child goes silent (no heartbeat), is the graded code spinning in a synchronous
// loop, or is the machine too busy to let the child run? Wall time alone cannot tell: a child whose
// thread waits for a busy disk (an fsync behind other processes' writes) or for a CPU that other
// processes hold is as silent as one in `for (;;) {}`. What tells them apart is the CPU time of the
// child's main thread, the one that runs the event loop: a spinning loop keeps spending it (as much
// of a core as the machine gives it, which on a crowded machine may be a twentieth); a thread that
// waits spends none, and the grader's own synchronous stretches spend well under a second. So:
//   - blocked: the main thread spent BLOCKED_CPU_MS of CPU since the silence began, without a
//     heartbeat. The graded code, whatever the load: only the time it takes to get there varies;
//   - stalled: silent for STALLED_MS while the thread was mostly not even waiting for a CPU (it
//     waited for a disk, or the graded code waits synchronously: execSync, Atomics.wait), or for
//     MAX_SILENCE_MS in any case. The grader cannot tell: could not judge, never a fail.
import { execFile } from 'node:child_process';
import fs from 'node:fs';

/** The parent looks at a silent child this often. */
const POLL_MS = 500;
/** Silence shorter than this is ordinary (a heartbeat every 250 ms, a GC pause, a busy moment). */
const SUSPECT_MS = 1000;
/** CPU the child's main thread spends without a heartbeat before it is judged blocked (idle machine: ~3 s after the last heartbeat). */
export const BLOCKED_CPU_MS = 2000;
/** Where the child's CPU time cannot be read: silence this long is judged blocked (the rule before CPU time was read). */
const BLOCKED_WALL_MS = 6000;
/** Silence this long, the thread mostly not runnable (or its state unknown), without the CPU that makes it "blocked": could not judge. */
export const STALLED_MS = 60_000;
/** Silence this long without the CPU that makes it "blocked", runnable or not: could not judge. */
const MAX_SILENCE_MS = 180_000;

export type Silence =
  { kind: 'blocked'; cpuMs: number; silentMs: number } | { kind: 'stalled'; silentMs: number; cpuMs?: number; startup: boolean };

export interface Watchdog {
  /** The child said something: its event loop runs. */
  heard(): void;
  stop(): void;
}

/** What the parent can read of the child's main thread: CPU time (ms), and whether it is running or waiting for a CPU. */
export interface ThreadSample {
  cpuMs: number;
  runnable?: boolean;
}

/**
 * Watches a child that sends a message (a heartbeat) at least every 250 ms once started. Calls
 * `onSilence` once, with what the silence was; the caller kills the child.
 */
export function watchChild(pid: number, options: { startupMs: number; onSilence(silence: Silence): void; stalledMs?: number }): Watchdog {
  const stalledMs = options.stalledMs ?? STALLED_MS;
  let lastHeard = performance.now();
  let started = false;
  /** Since the silence began: the CPU time then, and how often the thread was seen runnable. */
  let silence: { cpuMs: number; samples: number; runnable: number } | undefined;
  let polling = false;
  let done = false;
  const judge = (what: Silence) => {
    if (done) return;
    done = true;
    clearInterval(timer);
    options.onSilence(what);
  };
  const poll = async () => {
    const silentMs = performance.now() - lastHeard;
    if (!started) {
      if (silentMs >= options.startupMs) judge({ kind: 'stalled', silentMs, startup: true });
      return;
    }
    if (silentMs < SUSPECT_MS || polling) return;
    polling = true;
    const heardBefore = lastHeard;
    const now = await mainThreadSample(pid).catch(() => undefined);
    polling = false;
    if (done || lastHeard !== heardBefore) return; // it spoke meanwhile
    if (now === undefined) {
      if (silentMs >= BLOCKED_WALL_MS) judge({ kind: 'blocked', cpuMs: NaN, silentMs });
      return;
    }
    silence ??= { cpuMs: now.cpuMs, samples: 0, runnable: 0 };
    silence.samples++;
    if (now.runnable) silence.runnable++;
    const spent = now.cpuMs - silence.cpuMs;
    const mostlyWaiting = silence.runnable < silence.samples / 2;
    if (spent >= BLOCKED_CPU_MS) judge({ kind: 'blocked', cpuMs: spent, silentMs });
    else if ((silentMs >= stalledMs && mostlyWaiting) || silentMs >= MAX_SILENCE_MS)
      judge({ kind: 'stalled', silentMs, cpuMs: spent, startup: false });
  };
  // After the timer, in the check phase: messages that arrived while this process itself was held
  // up are read (poll phase) first, so a silence is never judged on what is merely unread.
  const timer = setInterval(() => setImmediate(() => void poll()), POLL_MS);
  return {
    heard() {
      started = true;
      lastHeard = performance.now();
      silence = undefined;
    },
    stop() {
      done = true;
      clearInterval(timer);
    },
  };
}

/** Linux's /proc reports CPU time in clock ticks of 1/100 s (USER_HZ, 100 on every architecture Node runs on). */
const TICKS_PER_SECOND = 100;

/**
 * The process's main thread, the one that runs its event loop: CPU time (user + system) and
 * whether it is running or waiting for a CPU (state R). Linux: /proc/<pid>/task/<pid>/stat (no
 * process is started; reading it never waits for a disk). Elsewhere (macOS has no /proc):
 * `ps -o time=`, the whole process's CPU time, which also counts V8's helper threads (a little more
 * than the event loop's: a spinning loop reaches BLOCKED_CPU_MS a little sooner, a waiting child
 * does not look like one), and no state. Undefined when neither works: the watchdog falls back to wall time.
 */
export async function mainThreadSample(pid: number): Promise<ThreadSample | undefined> {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    if (Number.isFinite(ticks)) return { cpuMs: (ticks * 1000) / TICKS_PER_SECOND, runnable: fields[0] === 'R' };
  } catch {
    // no /proc here: ask ps
  }
  return new Promise((resolve) => {
    execFile('ps', ['-o', 'time=', '-p', String(pid)], { timeout: 2000 }, (error, stdout) => {
      const cpuMs = error ? undefined : parsePsTime(stdout.trim());
      resolve(cpuMs === undefined ? undefined : { cpuMs });
    });
  });
}

/** ps's cumulative CPU time, `[[dd-]hh:]mm:ss[.cc]` (macOS gives hundredths, procps whole seconds), in ms. */
export function parsePsTime(text: string): number | undefined {
  const match = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$/.exec(text);
  if (!match) return undefined;
  const [, days = '0', hours = '0', minutes = '0', seconds = '0'] = match;
  return (((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000;
}
