// CPU and memory of the processes a benchmark run involves, read from /proc (Linux): the services
// of `npm start`, its supervisor, the broker's Erlang VM and the load driver itself.
import fs from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

export interface ProcessSample {
  /** CPU seconds used so far, user + system. */
  cpuSeconds: number;
  rssBytes: number;
}

export function sampleProcess(pid: number): ProcessSample | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    return { cpuSeconds: (utime + stime) / TICKS_PER_SECOND, rssBytes: rssKb * 1024 };
  } catch {
    return undefined; // it exited
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

export function commandLine(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

function allPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

/** Every process descended from `root` (children, their children, ...). */
export function descendantsOf(root: number): number[] {
  const parents = new Map(allPids().map((pid) => [pid, parentOf(pid)]));
  const found: number[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const parent = frontier.pop() as number;
    for (const [pid, ppid] of parents) {
      if (ppid === parent && !found.includes(pid)) {
        found.push(pid);
        frontier.push(pid);
      }
    }
  }
  return found;
}

/** The broker's Erlang VM: the beam.smp named after `node` (from the management API), else the oldest one. */
export function findBrokerPid(node: string): number | undefined {
  const beams = allPids().filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'beam.smp';
    } catch {
      return false;
    }
  });
  const named = beams.find((pid) => {
    try {
      const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      return environ.includes(`RABBITMQ_NODENAME=${node}`) || commandLine(pid).includes(node);
    } catch {
      return false;
    }
  });
  return named ?? beams.sort((a, b) => a - b)[0];
}

/** CPU used between two readings, as a share of one core, and the memory at the second. */
export interface ProcessUsage {
  name: string;
  cpuCores: number;
  cpuSeconds: number;
  rssBytes: number;
}

export class UsageMeter {
  private before = new Map<string, ProcessSample>();
  private startedAt = 0;

  constructor(private readonly processes: () => Map<string, number>) {}

  start(): void {
    this.startedAt = performance.now();
    this.before = new Map();
    for (const [name, pid] of this.processes()) {
      const sample = name === 'load driver' ? driverSample() : sampleProcess(pid);
      if (sample) this.before.set(name, sample);
    }
  }

  stop(): ProcessUsage[] {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const usage: ProcessUsage[] = [];
    for (const [name, pid] of this.processes()) {
      const first = this.before.get(name);
      const last = name === 'load driver' ? driverSample() : sampleProcess(pid);
      if (!first || !last) continue;
      const cpuSeconds = last.cpuSeconds - first.cpuSeconds;
      usage.push({ name, cpuSeconds, cpuCores: cpuSeconds / seconds, rssBytes: last.rssBytes });
    }
    return usage;
  }
}

/** This process, with the finer clock Node keeps. */
function driverSample(): ProcessSample {
  const { user, system } = process.cpuUsage();
  return { cpuSeconds: (user + system) / 1e6, rssBytes: process.memoryUsage.rss() };
}
