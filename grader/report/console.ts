// What a learner reads: a line per check as it finishes, every failure with what it expected and
// saw (the first with the services' log), a summary and what to do next.
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

/** A check as it ends: its verdict, then, set apart, what the learner's code printed while it ran. */
export function checkLine(result: CheckResult): string {
  const mark = result.status === 'pass' ? green('✓') : result.status === 'fail' ? red('✗') : yellow('!');
  const line = `  ${mark} ${result.name} ${dim(seconds(result.durationMs))}`;
  if (!result.output) return line;
  return [line, dim('      your code printed:'), ...result.output.map((printed) => dim(`      │ ${printed}`))].join('\n');
}

/** A failure in full: expected, seen, and the hint that fits it (or what it follows from). The first also shows the services' log. */
export function failureDetails(result: CheckResult, first = true): string {
  const heading = result.status === 'error' ? 'Could not check' : first ? 'First failure' : 'Also failing';
  const lines = [``, bold(`${heading}: ${result.name}`) + dim(`  (${result.id})`)];
  if (result.expected !== undefined) {
    lines.push(`  expected: ${result.expected}`, `  saw:      ${result.seen}`);
  } else if (result.message) {
    lines.push(`  ${result.message}`);
  }
  if (result.status === 'fail' && result.followsFrom) lines.push(`  ↳ follows from ${result.followsFrom.join(', ')}: fix that first`);
  else if (result.status === 'fail') lines.push(`  💰 ${result.hint}`);
  if (first && result.serviceLog) lines.push(dim('  the services said, last:'), ...result.serviceLog.map((line) => dim(`    ${line}`)));
  return lines.join('\n');
}

export function milestoneSummary(result: MilestoneResult): string {
  const { milestone, checks } = result;
  if (result.error) return `\n${red('!')} ${result.error}`;
  const passed = checks.filter((c) => c.status === 'pass').length;
  const problems = checks.filter((c) => c.status !== 'pass');
  const lines: string[] = [];
  const shown = new Set<string>();
  for (const problem of problems) {
    // Failures without expected/saw and with a message already shown (the starter's 🚨 pointer) are one line each.
    if (problem.expected === undefined && problem.message && shown.has(problem.message)) {
      lines.push(dim(`  ${red('✗')} ${problem.name}: the same`));
      continue;
    }
    if (problem.message) shown.add(problem.message);
    lines.push(failureDetails(problem, shown.size <= 1 && lines.length === 0));
  }
  if (result.late) {
    lines.push('', bold('Your code threw after its check had ended') + ' (a timer or a promise left behind; the milestone does not pass while it does):');
    for (const line of result.late) lines.push(`  ${red('✗')} ${line}`);
  }
  if (result.typeErrors) {
    lines.push('', bold(`Type errors in your file`) + ' (the milestone does not pass while there are any; `npm run typecheck` shows them too):');
    for (const line of result.typeErrors.slice(0, 10)) lines.push(`  ${red('✗')} ${line}`);
    if (result.typeErrors.length > 10) lines.push(dim(`  … and ${result.typeErrors.length - 10} more`));
  }
  const tally = `${passed} of ${checks.length} checks pass (${seconds(result.durationMs)})`;
  lines.push('', result.status === 'pass' ? green(`🎉 Milestone ${milestone.number} passes: ${tally}.`) : `${tally}.`);
  return lines.join('\n');
}
