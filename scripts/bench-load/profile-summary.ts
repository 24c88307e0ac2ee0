// Where a service's CPU time went, from the .cpuprofile files `node --cpu-prof` writes at exit:
// self time per function and per kind of work (SQLite, amqplib, HTTP, validation, logging, ...).
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  process: string;
  file: string;
  sampledMs: number;
  /** Busy time (not idle), by kind of work, largest first. */
  byKind: Array<{ kind: string; ms: number; share: number }>;
  topFunctions: Array<{ name: string; ms: number; share: number }>;
}

/** What a stack frame is doing, from the file it is in. */
function kindOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)') return 'V8 and native (unattributed)';
  if (url.includes('better-sqlite3')) return 'SQLite';
  if (url.includes('/amqplib/') || url.includes('/buffer-more-ints/') || url.includes('/bitsyntax/')) return 'amqplib (AMQP framing)';
  if (/\/(express|router|body-parser|raw-body|finalhandler|send|qs|type-is|content-type|iconv-lite|on-finished|debug)\//.test(url))
    return 'Express';
  if (url.includes('/zod/')) return 'zod (validation)';
  if (url.includes('node:internal/deps/undici') || url.includes('node:_http') || url.includes('node:http')) return 'Node HTTP';
  if (
    url.includes('node:net') ||
    url.includes('node:internal/stream') ||
    url.includes('node:stream') ||
    url.includes('node:internal/net') ||
    url.includes('node:internal/child_process')
  )
    return 'Node streams and sockets';
  if (url.includes('/@opentelemetry/') || url.includes('/prom-client/') || url.includes('/solutions/observability/'))
    return 'metrics and traces';
  if (url.includes('/tsx/') || url.includes('node:internal/modules')) return 'module loading (tsx)';
  if (url.includes('/solutions/layers/')) return 'workshop layers';
  if (url.includes('/solutions/runtime/')) return 'service runtime';
  if (url.includes('/solutions/services/')) return 'domain code';
  if (url.includes('/solutions/supervisor/')) return 'supervisor';
  if (url.includes('/shared/log')) return 'logging';
  if (url.startsWith('node:')) return 'Node (other)';
  if (url === '') return 'native (JSON, crypto, ...)';
  return 'other';
}

function summarizeProfile(file: string, processName: string): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, index) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const byKind = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = (nodes.get(id) as ProfileNode).callFrame;
    const kind = kindOf(frame);
    if (kind === 'idle') continue;
    busyUs += us;
    byKind.set(kind, (byKind.get(kind) ?? 0) + us);
    const where = frame.url
      ? `${frame.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(solutions|shared)\//, '$1/')}:${frame.lineNumber + 1}`
      : '';
    const name = `${frame.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  }
  const share = (us: number) => (busyUs > 0 ? us / busyUs : 0);
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return {
    process: processName,
    file: path.basename(file),
    sampledMs: (profile.endTime - profile.startTime) / 1000,
    byKind: sorted(byKind).map(([kind, us]) => ({ kind, ms: us / 1000, share: share(us) })),
    topFunctions: sorted(byFunction)
      .slice(0, 12)
      .map(([name, us]) => ({ name, ms: us / 1000, share: share(us) })),
  };
}

/** Every profile in `dir` whose pid (CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile) we know by name. */
export function summarizeProfiles(dir: string, pidNames: Map<number, string>): ProfileSummary[] {
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.cpuprofile'))
    .flatMap((file) => {
      const [, , , pid, thread] = file.split('.');
      const name = pidNames.get(Number(pid));
      // Thread 0 is the main thread; tsx's loader thread is not where the service works.
      return name && thread === '0' ? [summarizeProfile(path.join(dir, file), name)] : [];
    });
}
