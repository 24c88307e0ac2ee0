// How much wall time the machine took from this process: time its event loop stood still without
// it spending CPU, because its thread waited for a busy disk (an SQLite commit's fsync behind other
// processes' writes) or for a CPU that other processes held. A timer due every TICK_MS that fires
// late by `lag` while the process spent `cpu` in between was kept from running for about lag - cpu
// (code that is merely slow, the graded code's or ours, spends CPU and is not counted).
//
// A check's deadlines (its timeout, waitFor) are budgets of time this process could run: they are
// stretched by what the machine took meanwhile, at most MAX_STRETCH times their length, so a slow
// machine does not make correct code late while a layer that never answers still fails. When a
// deadline runs out before the process could run for its whole length, the wait was too short to
// judge: could not judge (check.ts, machineTooBusy), never a fail. Nothing is graded to measure it.
const TICK_MS = 50;
/** A deadline stretches by at most this many times its length (a 5 s timeout: at most 55 s of wall time, when the machine took 50 s of them). */
export const MAX_STRETCH = 10;

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

let stolenTotal = 0;
let lastWall = performance.now();
let lastCpu = cpuMs();

/** Stolen time between the last tick and now (a tick that is late now counts before it fires). */
function sinceLastTick(now: number): number {
  return Math.max(0, now - lastWall - TICK_MS - (cpuMs() - lastCpu));
}

setInterval(() => {
  const now = performance.now();
  stolenTotal += sinceLastTick(now);
  lastWall = now;
  lastCpu = cpuMs();
}, TICK_MS).unref();

/** Wall time (ms) the machine has taken from this process since it loaded this module. */
export function stolenMs(): number {
  return stolenTotal + sinceLastTick(performance.now());
}

export interface Budget {
  /** Ms of wall time left before it runs out (≤ 0: it has run out). */
  left(): number;
  /** True when it ran out before the process could run for its whole length: too short to judge. */
  shortChanged(): boolean;
  /** Wall ms it has run, and how many of them the machine took. */
  used(): { wallMs: number; stolenMs: number };
  /** Stops its time (the check waits for something that is not the layer's time). */
  pause(): void;
  resume(): void;
}

/** `ms` of time this process can run, starting now: stretched by the time the machine takes meanwhile (at most MAX_STRETCH × ms). */
export function budget(ms: number): Budget {
  let wallBefore = 0;
  let stolenBefore = 0;
  let spanStart: { wall: number; stolen: number } | undefined = { wall: performance.now(), stolen: stolenMs() };
  const used = () => {
    if (!spanStart) return { wallMs: wallBefore, stolenMs: stolenBefore };
    return { wallMs: wallBefore + performance.now() - spanStart.wall, stolenMs: stolenBefore + stolenMs() - spanStart.stolen };
  };
  return {
    used,
    left() {
      const { wallMs, stolenMs: stolen } = used();
      return ms + Math.min(stolen, ms * MAX_STRETCH) - wallMs;
    },
    shortChanged() {
      const { wallMs, stolenMs: stolen } = used();
      return wallMs - stolen < ms;
    },
    pause() {
      if (!spanStart) return;
      ({ wallMs: wallBefore, stolenMs: stolenBefore } = used());
      spanStart = undefined;
    },
    resume() {
      spanStart ??= { wall: performance.now(), stolen: stolenMs() };
    },
  };
}
