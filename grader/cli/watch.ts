// --watch: re-grade whenever a file of the milestone changes. Each run is a fresh process, so the
// learner's edited module is imported anew. Where fs.watch is unavailable, Enter re-grades.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MILESTONES } from '../manifest.ts';

export async function watchAndRegrade(_args: unknown, forwardedArgs: string[]): Promise<void> {
  const folders = MILESTONES.map((m) => path.dirname(m.exercise.file)).filter((folder) => fs.existsSync(folder));
  let running = false;
  let again = false;
  const regrade = () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    console.clear();
    // The terminal's input stays here (Enter re-grades), so the run asks nothing: no restart of the
    // learner's broker unless --restart-my-broker was given (it is forwarded).
    const child = spawn(process.execPath, ['--import', 'tsx', 'grader/cli/grade.ts', ...forwardedArgs], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', () => {
      running = false;
      console.log('\n👀 watching milestones/ for changes (Ctrl-C to stop, Enter to re-grade now)');
      if (again) {
        again = false;
        regrade();
      }
    });
  };
  let timer: NodeJS.Timeout | undefined;
  const debounced = () => {
    clearTimeout(timer);
    timer = setTimeout(regrade, 200);
  };
  try {
    for (const folder of folders) fs.watch(folder, { recursive: false }, debounced);
  } catch {
    console.log('(file watching is not available here: press Enter to re-grade)');
  }
  process.stdin.on('data', regrade);
  regrade();
  await new Promise(() => {});
}
