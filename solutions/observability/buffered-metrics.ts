// Metric updates off the hot path. prom-client hashes a label set on every inc and observe (its keys
// sorted, joined into a string); a delivery makes several. Here a delivery adds to a plain Map entry,
// and the sums and observations reach prom-client when the metric is read (a scrape, or get()), one
// label lookup per label set. Until then they are only held: at most MAX_HELD observations, past
// which they are handed over at once. Switched off (OBSERVABILITY=off), an update does nothing.
import { Counter, Histogram, type CounterConfiguration, type HistogramConfiguration } from 'prom-client';

export type Labels = Record<string, string>;

const MAX_HELD = 10_000;
const NO_LABELS = '';

/** A key per label set: its values in the order given (every caller names them in one order). */
function keyOf(labels: Labels | undefined): string {
  if (!labels) return NO_LABELS;
  let key = '';
  for (const name in labels) key += `${labels[name]}\u0001`;
  return key;
}

export class BufferedCounter {
  private held = new Map<string, { labels: Labels | undefined; n: number }>();
  readonly counter: Counter<string>;

  constructor(
    config: CounterConfiguration<string>,
    private readonly enabled: boolean,
  ) {
    this.counter = new Counter({ ...config, collect: () => this.flush() });
  }

  inc(labels?: Labels | number, n = 1): void {
    if (!this.enabled) return;
    if (typeof labels === 'number') [n, labels] = [labels, undefined];
    const key = keyOf(labels);
    const entry = this.held.get(key);
    if (entry) entry.n += n;
    else this.held.set(key, { labels, n });
  }

  private flush(): void {
    if (this.held.size === 0) return;
    const held = this.held;
    this.held = new Map();
    for (const { labels, n } of held.values()) {
      if (labels) this.counter.inc(labels, n);
      else this.counter.inc(n);
    }
  }
}

export class BufferedHistogram {
  private held = new Map<string, { labels: Labels; values: number[] }>();
  private count = 0;
  readonly histogram: Histogram<string>;

  constructor(
    config: HistogramConfiguration<string>,
    private readonly enabled: boolean,
  ) {
    this.histogram = new Histogram({ ...config, collect: () => this.flush() });
  }

  observe(labels: Labels, value: number): void {
    if (!this.enabled) return;
    const key = keyOf(labels);
    const entry = this.held.get(key);
    if (entry) entry.values.push(value);
    else this.held.set(key, { labels, values: [value] });
    if (++this.count >= MAX_HELD) this.flush();
  }

  /** Returns a function that observes the seconds since now. */
  startTimer(labels: Labels): () => void {
    if (!this.enabled) return () => {};
    const start = process.hrtime.bigint();
    return () => this.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
  }

  private flush(): void {
    if (this.count === 0) return;
    const held = this.held;
    this.held = new Map();
    this.count = 0;
    for (const { labels, values } of held.values()) {
      const child = this.histogram.labels(labels);
      for (const value of values) child.observe(value);
    }
  }
}
