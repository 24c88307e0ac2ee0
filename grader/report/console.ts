// What a learner reads: a line per check as it finishes, every failure with what it expected and
// saw (the first with the services' log), a summary and what to do next.
import { REPORT_A_BUG } from '../../shared/cli/errors.ts';
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

/**
 * The cause a failure shares with others: the one its check diagnosed (rootCause), or a broker's
 * refusal that every check declaring the same thing meets (PRECONDITION_FAILED for an exchange
 * redeclared with another type or other options), told apart from the check's own vhost.
 */
export interface SharedCause {
  key: string;
  text: string;
  /** The 💰 that fits the cause, when the report knows a better one than the check's. */
  hint?: string;
}

const INEQUIVALENT =
  /PRECONDITION_FAILED - inequivalent arg '([^']+)' for (exchange|queue) '([^']+)' in vhost '[^']*': received (.+?) but current is ([^"\n]+?)(?:"|$|\n)/;

export function sharedCause(result: CheckResult): SharedCause | undefined {
  if (result.status !== 'fail') return undefined;
  if (result.rootCause) return { key: result.rootCause, text: result.rootCause };
  const refused = INEQUIVALENT.exec(`${result.seen ?? ''} ${result.message ?? ''}`);
  if (!refused) return undefined;
  const [, argument, kind, name, received, current] = refused;
  return {
    key: `inequivalent ${argument} ${kind} ${name}`,
    text: `the broker refused to declare the ${kind} ${name} again with another ${argument} (${received}, where it exists with ${(current ?? '').trim()})`,
    hint: `Something declared ${name} first with its ${argument} from the topology: declare it with the same type and the options exchangeOptions(spec) gives.`,
  };
}

/**
 * Messages that say what happened to the process or the file, not what the check observed: the
 * check's 💰 is about the behaviour it checks, and does not fit them.
 */
const NOT_ABOUT_THE_CHECK = [/^🚨 /, /^your code ended the grading process/, /^your code blocked the event loop/];

/** The 💰 that fits this failure: the cause's, the failure's own, or the check's unless the failure is not about what the check observes. */
export function fittingHint(result: CheckResult, cause?: SharedCause): string | undefined {
  if (result.status !== 'fail') return undefined;
  if (cause?.hint) return cause.hint;
  if (result.expected === undefined && NOT_ABOUT_THE_CHECK.some((pattern) => pattern.test(result.message ?? ''))) return undefined;
  return result.hint || undefined;
}

/** A failure in full: expected, seen, and the hint that fits it (or what it follows from). The first also shows the services' log. */
export function failureDetails(result: CheckResult, first = true, cause = sharedCause(result)): string {
  const heading = result.status === 'error' ? 'Could not check' : first ? 'First failure' : 'Also failing';
  const lines = [``, bold(`${heading}: ${result.name}`) + dim(`  (${result.id})`)];
  if (result.expected !== undefined) {
    lines.push(`  expected: ${result.expected}`, `  saw:      ${result.seen}`);
  } else if (result.message) {
    lines.push(`  ${result.message}`);
  }
  const hint = fittingHint(result, cause);
  if (result.status === 'fail' && result.followsFrom) lines.push(`  ↳ follows from ${result.followsFrom.join(', ')}: fix that first`);
  else if (hint) lines.push(`  💰 ${hint}`);
  if (first && result.serviceLog) lines.push(dim('  the services said, last:'), ...result.serviceLog.map((line) => dim(`    ${line}`)));
  return lines.join('\n');
}

/** A failure whose cause is printed in full at another check: one line saying which. */
function sameCauseLine(result: CheckResult, owner: CheckResult): string {
  return `  ${red('✗')} ${result.name} ${dim(`(${result.id})`)}: same cause as ${owner.id}`;
}

/**
 * Failures that share a cause, by cause: printed in full once, at the check that is about that
 * cause (whose "saw" is the cause itself), else at the first; the others name it.
 */
function causeOwners(problems: CheckResult[]): Map<CheckResult, CheckResult> {
  const groups = new Map<string, { cause: SharedCause; members: CheckResult[] }>();
  for (const problem of problems) {
    if (problem.followsFrom) continue;
    const cause = sharedCause(problem);
    if (!cause) continue;
    const group = groups.get(cause.key) ?? { cause, members: [] };
    group.members.push(problem);
    groups.set(cause.key, group);
  }
  const ownerOf = new Map<CheckResult, CheckResult>();
  for (const { cause, members } of groups.values()) {
    if (members.length < 2) continue;
    const owner = members.find((m) => m.seen === cause.text) ?? members[0]!;
    for (const member of members) ownerOf.set(member, owner);
  }
  return ownerOf;
}

export function milestoneSummary(result: MilestoneResult): string {
  const { milestone, checks } = result;
  if (result.error) return `\n${red('!')} ${result.error}${result.errorKind === 'bug' ? `\n${REPORT_A_BUG}` : ''}`;
  const passed = checks.filter((c) => c.status === 'pass').length;
  const problems = checks.filter((c) => c.status !== 'pass');
  const ownerOf = causeOwners(problems);
  const lines: string[] = [];
  const shown = new Set<string>();
  const printedOwners = new Set<CheckResult>();
  const details = (problem: CheckResult) => {
    if (problem.message) shown.add(problem.message);
    lines.push(failureDetails(problem, shown.size <= 1 && lines.length === 0));
  };
  for (const problem of problems) {
    const owner = ownerOf.get(problem);
    if (owner) {
      // The cause in full where the group first shows, then each other check of it in one line.
      if (!printedOwners.has(owner)) {
        printedOwners.add(owner);
        details(owner);
      }
      if (owner !== problem) lines.push(sameCauseLine(problem, owner));
      continue;
    }
    // Failures without expected/saw and with a message already shown (the starter's 🚨 pointer) are one line each.
    if (problem.expected === undefined && problem.message && shown.has(problem.message)) {
      lines.push(dim(`  ${red('✗')} ${problem.name}: the same`));
      continue;
    }
    details(problem);
  }
  if (result.late) {
    lines.push(
      '',
      bold('Your code threw after its check had ended') + ' (a timer or a promise left behind; the milestone does not pass while it does):',
    );
    for (const line of result.late) lines.push(`  ${red('✗')} ${line}`);
  }
  if (result.typeErrors) {
    lines.push(
      '',
      bold(`Type errors in your file`) + ' (the milestone does not pass while there are any; `npm run typecheck` shows them too):',
    );
    for (const line of result.typeErrors.slice(0, 10)) lines.push(`  ${red('✗')} ${line}`);
    if (result.typeErrors.length > 10) lines.push(dim(`  … and ${result.typeErrors.length - 10} more`));
  }
  const tally = `${passed} of ${checks.length} checks pass (${seconds(result.durationMs)})`;
  lines.push('', result.status === 'pass' ? green(`🎉 Milestone ${milestone.number} passes: ${tally}.`) : `${tally}.`);
  return lines.join('\n');
}
