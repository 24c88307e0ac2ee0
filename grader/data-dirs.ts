// Where the services a check starts keep their SQLite files, and the sweep of those a killed
// grading process left behind. Apart from context.ts so that the command (environment.ts) can sweep
// without loading the reference system.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where the services a check starts keep their SQLite files, and how their commits reach the disk.
 * The grader's own runs only (production keeps synchronous=FULL on a real disk, database.ts): a
 * check's databases are thrown away when it ends, so they need no durability, and a commit that
 * waits for its fsync holds up the event loop of the grading process (better-sqlite3 is
 * synchronous) for as long as a disk busy with other processes' writes makes it wait, which would
 * count against the graded code. So: a RAM-backed dir where there is one with room (Linux's
 * /dev/shm: fsync returns at once), and synchronous=NORMAL everywhere (no fsync per commit in WAL
 * mode; macOS has no /dev/shm).
 */
const RAM_DIR = '/dev/shm';
const RAM_DIR_ROOM = 256 * 2 ** 20;

export function checkDataRoot(): string | undefined {
  try {
    const { bavail, bsize } = fs.statfsSync(RAM_DIR);
    fs.accessSync(RAM_DIR, fs.constants.W_OK);
    return bavail * bsize >= RAM_DIR_ROOM ? RAM_DIR : undefined;
  } catch {
    return undefined; // no /dev/shm here: the system's temp dir
  }
}

/**
 * Removes the data dirs of checks whose grading process is gone: one killed mid-check (an endless
 * loop, process.exit in the graded code) never ran its cleanup, and in /dev/shm what it left takes
 * RAM until removed. Their names carry the process id (`grade-<check>-<pid>-XXXXXX`).
 */
export function sweepAbandonedDataDirs(alive: (pid: number) => boolean): void {
  for (const root of new Set([checkDataRoot(), os.tmpdir()])) {
    if (!root) continue;
    let names: string[];
    try {
      names = fs.readdirSync(root);
    } catch {
      continue;
    }
    for (const name of names) {
      const pid = /^grade-.+-(\d+)-[A-Za-z0-9]{6}$/.exec(name)?.[1];
      if (pid !== undefined && Number(pid) !== process.pid && !alive(Number(pid)))
        fs.rmSync(path.join(root, name), { recursive: true, force: true });
    }
  }
}
