// npm start's ports, checked before anything starts. Without this, a second `npm start` got as far as
// finding the broker and starting services (one of them joining the live queues, taking messages
// from the first system) before the order service failed with EADDRINUSE, 19 s later.
import fs from 'node:fs';
import net from 'node:net';
import type { EnvConfig } from '../../shared/config.ts';
import { SERVICE_NAMES, type ServiceName } from '../../shared/messages/events.ts';

export interface WantedPort {
  port: number;
  host: string;
  /** What listens there, for the message: "the HTTP API". */
  what: string;
  /** The variable that moves it. */
  variable: string;
  /** A port npm start cannot do without. A metrics port is not: a service in use falls back to a free one. */
  required: boolean;
}

/** The ports this npm start will listen on: the HTTP API's (with the order service), the dashboard's, each service's metrics port. Port 0 means any free one: nothing to check. */
export function wantedPorts(env: EnvConfig, services: readonly ServiceName[], withDashboard: boolean): WantedPort[] {
  const wanted: WantedPort[] = [];
  if (services.includes('order'))
    wanted.push({ port: env.HTTP_PORT, host: env.HTTP_HOST, what: 'the HTTP API', variable: 'HTTP_PORT', required: true });
  if (withDashboard)
    wanted.push({ port: env.DASHBOARD_PORT, host: env.DASHBOARD_HOST, what: 'the dashboard', variable: 'DASHBOARD_PORT', required: true });
  if (env.METRICS_PORT !== 0) {
    for (const service of services) {
      const port = env.METRICS_PORT + SERVICE_NAMES.indexOf(service);
      wanted.push({ port, host: env.HTTP_HOST, what: `${service}'s /metrics`, variable: 'METRICS_PORT', required: false });
    }
  }
  return wanted.filter((w) => w.port !== 0);
}

/** Whether something already listens on host:port (tried by listening there for a moment). */
export function portInUse(port: number, host: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(true) : reject(error)));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(false)));
  });
}

/** The process listening on a TCP port, from /proc (Linux); undefined where that cannot be told. */
export function listenerPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st ... inode: local_address is HEXIP:HEXPORT, st 0A is LISTEN.
      const columns = line.trim().split(/\s+/);
      if (columns.length > 9 && columns[3] === '0A' && Number.parseInt(columns[1]!.split(':')[1]!, 16) === port) inodes.add(columns[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${entry}/fd/${fd}`))?.[1];
        if (inode !== undefined && inodes.has(inode)) return Number(entry);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

function commandLine(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

function parentOf(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: pid (comm) state ppid ...; comm may hold spaces and parentheses, so read after the last ')'.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return ppid > 1 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** The npm start (solutions/start.mjs, or start.ts run directly) this process is, or runs under, if any. */
function npmStartOf(pid: number): number | undefined {
  for (let current: number | undefined = pid, depth = 0; current !== undefined && depth < 10; current = parentOf(current), depth++) {
    if (/solutions\/start\.(ts|mjs)\b/.test(commandLine(current) ?? '')) return current;
  }
  return undefined;
}

/** Who holds a port, as a person would want to hear it. */
export function describeHolder(port: number): string {
  const pid = listenerPid(port);
  if (pid === undefined) return 'another npm start? which process holds it cannot be told here';
  const command = commandLine(pid);
  const shown = command && command.length > 100 ? `${command.slice(0, 97)}...` : command;
  const npmStart = npmStartOf(pid);
  const what = shown ? `pid ${pid}: ${shown}` : `pid ${pid}`;
  if (npmStart === undefined) return what;
  return npmStart === pid ? `another npm start, ${what}` : `another npm start, pid ${npmStart} (${what})`;
}

export interface PortReport {
  /** Required ports in use: npm start must not go on. */
  blocking: string[];
  /** Metrics ports in use: the service falls back to a free one. */
  warnings: string[];
}

/** Checks every wanted port, and says of each one in use what holds it. */
export async function checkPorts(wanted: WantedPort[]): Promise<PortReport> {
  const report: PortReport = { blocking: [], warnings: [] };
  const problems = await Promise.all(
    wanted.map((w) =>
      portInUse(w.port, w.host).then(
        (inUse) => (inUse ? `port ${w.port} (${w.what}, ${w.variable}) is in use (${describeHolder(w.port)})` : undefined),
        (error: NodeJS.ErrnoException) => `cannot listen on ${w.host}:${w.port} (${w.what}, ${w.variable}): ${error.code ?? error.message}`,
      ),
    ),
  );
  wanted.forEach((w, i) => {
    const problem = problems[i];
    if (problem !== undefined) (w.required ? report.blocking : report.warnings).push(problem);
  });
  return report;
}
