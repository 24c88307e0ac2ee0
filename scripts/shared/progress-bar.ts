// A progress bar on stderr for a run made of steps (bench:load, chaos): redrawn in place on a
// terminal, one line per step otherwise (CI logs, a pipe).
const WIDTH = 30;

export class ProgressBar {
  private index = -1;
  private label = '';
  private readonly tty = process.stderr.isTTY === true;
  private readonly startedAt = performance.now();

  constructor(private readonly steps: number) {}

  step(label: string): void {
    this.index++;
    this.label = label;
    if (this.tty) this.draw(0);
    else process.stderr.write(`[${this.index + 1}/${this.steps}] ${label}\n`);
  }

  /** How far the current step is, 0 to 1. */
  within(share: number): void {
    if (this.tty) this.draw(share);
  }

  /** A line that stays above the bar. */
  note(line: string): void {
    process.stderr.write(`${this.tty ? '\r\x1b[2K' : ''}  ${line}\n`);
    if (this.tty) this.draw(0);
  }

  done(): void {
    const seconds = Math.round((performance.now() - this.startedAt) / 1000);
    process.stderr.write(`${this.tty ? '\r\x1b[2K' : ''}done in ${Math.floor(seconds / 60)} min ${seconds % 60} s\n`);
  }

  private draw(share: number): void {
    const overall = Math.min(1, (Math.max(0, this.index) + share) / this.steps);
    const filled = Math.round(overall * WIDTH);
    process.stderr.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${Math.round(overall * 100)}%  ${this.label}`);
  }
}
