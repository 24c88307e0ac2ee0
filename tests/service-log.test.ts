// A service's log sink (shared/log.ts): lines of one event-loop turn leave in one write, and past
// the limit a second the informational lines are counted in one summary line, while warnings and
// errors are always written.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, serviceLogSink } from '../shared/log.ts';
import { eventually } from './support/eventually.ts';

function collector() {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk.toString());
      done();
    },
  });
  return { stream, writes, lines: () => writes.join('').split('\n').filter(Boolean) };
}

describe('serviceLogSink', () => {
  it('writes the lines of one turn in one write, in order', async () => {
    const out = collector();
    const log = createLogger('audit', serviceLogSink('audit', 50, { out: out.stream, err: collector().stream }));
    for (let i = 0; i < 5; i++) log.info(`line ${i}`);
    await eventually(() => out.writes.length > 0, { timeoutMs: 2000, what: 'the first write' });
    expect(out.writes).toHaveLength(1);
    expect(out.lines()).toEqual([0, 1, 2, 3, 4].map((i) => `[audit] line ${i}`));
  });

  it('past the limit a second, counts the rest in one line; warnings still get through', async () => {
    const out = collector();
    const err = collector();
    const log = createLogger('audit', serviceLogSink('audit', 10, { out: out.stream, err: err.stream }));
    for (let i = 0; i < 25; i++) log.info(`line ${i}`);
    log.warn('the broker blocked publishing');
    const summary = await eventually(() => out.lines().find((line) => line.includes('more lines')), {
      timeoutMs: 3000,
      what: 'the summary line',
    });
    expect(out.lines().filter((line) => line.startsWith('[audit] line '))).toHaveLength(10);
    expect(summary).toBe(
      '[audit] … and 15 more lines like these in the last second, not shown (more than 10 a second; warnings and errors are always shown)',
    );
    expect(err.lines()).toEqual(['[audit] warning: the broker blocked publishing']);
  });
});
