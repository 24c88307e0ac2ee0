// What a learner reads: a line per check as it finishes, the first failure in full, a summary and
// what to do next.
import type { CheckResult, MilestoneResult } from '../runner.ts';

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);
export const green = paint(32);
export const red = paint(31);
export const yellow = paint(33);
export const dim = paint(2);
export const bold = paint(1);

export function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function checkLine(result: CheckResult): string {
  const mark = result.status === 'pass' ? green('✓') : result.status === 'fail' ? red('✗') : yellow('!');
  return `  ${mark} ${result.name} ${dim(seconds(result.durationMs))}`;
}

/** The first failure in full: expected, seen, hint. */
export function failureDetails(result: CheckResult): string {
  const lines = [``, bold(`${result.status === 'error' ? 'Could not check' : 'First failure'}: ${result.name}`)];
  if (result.expected !== undefined) {
    lines.push(`  expected: ${result.expected}`, `  saw:      ${result.seen}`);
  } else if (result.message) {
    lines.push(`  ${result.message}`);
  }
  if (result.status === 'fail') lines.push(`  💰 ${result.hint}`);
  if (result.serviceLog) lines.push(dim('  the services said, last:'), ...result.serviceLog.map((line) => dim(`    ${line}`)));
  return lines.join('\n');
}

export function milestoneSummary(result: MilestoneResult): string {
  const { milestone, checks } = result;
  if (result.error) return `\n${red('!')} ${result.error}`;
  const passed = checks.filter((c) => c.status === 'pass').length;
  const firstProblem = checks.find((c) => c.status !== 'pass');
  const lines: string[] = [];
  if (firstProblem) lines.push(failureDetails(firstProblem));
  const tally = `${passed} of ${checks.length} checks pass (${seconds(result.durationMs)})`;
  lines.push('', result.status === 'pass' ? green(`🎉 Milestone ${milestone.number} passes: ${tally}.`) : `${tally}.`);
  return lines.join('\n');
}
