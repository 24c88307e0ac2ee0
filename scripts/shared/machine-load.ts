// A busy machine on demand, for proving that the grader's verdicts do not depend on it: processes
// that burn CPU, and processes that write 4 KB and fsync in a loop (a disk shared with other
// processes' commits, as when other test suites' SQLite databases run beside the grader). Every
// process stops by itself after `maxMs` even if nobody stops it, and stop() kills them at once.
// Nothing here touches the network.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface LoadOptions {
  cpuBurners?: number;
  diskWriters?: number;
  /** Each process ends by itself after this long (a run that forgets to stop it leaves nothing behind for long). */
  maxMs?: number;
  /** Where the writers write: the system's temp dir (on the disk, where it is not a RAM disk) unless said otherwise. */
  dir?: string;
}

export interface MachineLoad {
  /** "8 CPU burners, 4 writers (4 KB + fsync)". */
  description: string;
  /** What the writers achieved so far: fsyncs in all, and the slowest single fsync. */
  diskStats(): { fsyncs: number; slowestFsyncMs: number };
  stop(): Promise<void>;
}

const burner = (maxMs: number) => `const end = Date.now() + ${maxMs}; while (Date.now() < end) {}`;

// Overwrites 4 KB blocks of a 4 MB file in turn (bounded size), fsyncs after each, and prints its
// counts about once a second (from inside the loop: it never yields to an event loop).
const writer = (file: string, maxMs: number) => `
const fs = require('node:fs');
const fd = fs.openSync(${JSON.stringify(file)}, 'w');
const block = Buffer.alloc(4096, 7);
const end = Date.now() + ${maxMs};
let fsyncs = 0, slowest = 0, lastReport = Date.now();
while (Date.now() < end) {
  fs.writeSync(fd, block, 0, block.length, (fsyncs % 1024) * 4096);
  const started = Date.now();
  fs.fsyncSync(fd);
  slowest = Math.max(slowest, Date.now() - started);
  fsyncs++;
  if (Date.now() - lastReport >= 1000) { fs.writeSync(1, JSON.stringify({ fsyncs, slowest }) + '\\n'); lastReport = Date.now(); }
}
fs.closeSync(fd);
fs.unlinkSync(${JSON.stringify(file)});
`;

export function startMachineLoad(options: LoadOptions = {}): MachineLoad {
  const { cpuBurners = 8, diskWriters = 4, maxMs = 180_000 } = options;
  const dir = fs.mkdtempSync(path.join(options.dir ?? os.tmpdir(), 'machine-load-'));
  const children: ChildProcess[] = [];
  const writerStats = new Map<number, { fsyncs: number; slowest: number }>();
  const start = (code: string) => {
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(child);
    return child;
  };
  for (let i = 0; i < cpuBurners; i++) start(burner(maxMs));
  for (let i = 0; i < diskWriters; i++) {
    const child = start(writer(path.join(dir, `writer-${i}`), maxMs));
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      const last = lines.at(-1);
      if (last) writerStats.set(i, JSON.parse(last) as { fsyncs: number; slowest: number });
    });
  }
  // Should this process end without stop(), its load ends with it (and by itself after maxMs anyway).
  const killAll = () => children.forEach((child) => child.kill('SIGKILL'));
  process.once('exit', killAll);
  return {
    description: `${cpuBurners} CPU burners, ${diskWriters} writers (4 KB + fsync in a loop)`,
    diskStats() {
      const stats = [...writerStats.values()];
      return { fsyncs: stats.reduce((sum, s) => sum + s.fsyncs, 0), slowestFsyncMs: Math.max(0, ...stats.map((s) => s.slowest)) };
    },
    async stop() {
      process.off('exit', killAll);
      const exited = children.map((child) =>
        child.exitCode !== null || child.signalCode !== null
          ? Promise.resolve()
          : new Promise<void>((resolve) => child.once('exit', () => resolve())),
      );
      killAll();
      await Promise.all(exited);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
