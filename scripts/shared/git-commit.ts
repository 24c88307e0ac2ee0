// The commit a measurement was taken at, for the reports the scripts write.
import { execFileSync } from 'node:child_process';

/** The short hash of HEAD in `cwd`, or 'unknown' outside a git checkout. */
export function gitCommit(cwd: string): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
