// What the graded code printed in the grading child, gathered by the parent (grading-process.ts) and
// shown a few lines under the check it printed it in.
import type { CheckResult } from './runner.ts';

/**
 * What the graded code printed, per check, to show apart under it: a few lines each. Output printed
 * while no check ran (the file loading) goes with the next check reported.
 */
export class PrintedOutput {
  static readonly SHOWN_LINES = 6;
  private readonly texts = new Map<string, string>();
  private readonly dropped = new Map<string, number>();

  add(id: string | undefined, text: string, dropped = 0): void {
    const key = id ?? '';
    this.texts.set(key, (this.texts.get(key) ?? '') + text);
    if (dropped > 0) this.dropped.set(key, (this.dropped.get(key) ?? 0) + dropped);
  }

  /** The result with `output` set, trimmed, when the graded code printed something during it (or before it). */
  attach(result: CheckResult): CheckResult {
    const lines = [...this.take(''), ...this.take(result.id)].filter((line) => line.trim() !== '');
    const dropped = (this.dropped.get('') ?? 0) + (this.dropped.get(result.id) ?? 0);
    this.dropped.delete('');
    this.dropped.delete(result.id);
    if (lines.length === 0 && dropped === 0) return result;
    const shown = lines.slice(0, PrintedOutput.SHOWN_LINES);
    const more = lines.length - shown.length + dropped;
    return { ...result, output: more > 0 ? [...shown, `… ${more} more line${more === 1 ? '' : 's'}`] : shown };
  }

  private take(key: string): string[] {
    const text = this.texts.get(key);
    this.texts.delete(key);
    return text === undefined
      ? []
      : text
          // eslint-disable-next-line no-control-regex -- the escape that starts a terminal colour code
          .replace(/\x1b\[[0-9;]*m/g, '')
          .replace(/\n$/, '')
          .split('\n');
  }
}
