// `npm run hint`: one more level per call, remembered in .progress/, saying how many are left.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PARK_HEADERS } from '../../shared/layers/06-dead-letters.ts';
import { DomainEventSchema, EVENT_TYPES } from '../../shared/messages/events.ts';
import { buildTopology } from '../../shared/topology/topology.ts';
import { revealHint } from '../cli/hint.ts';
import { MILESTONES, type Milestone, milestone } from '../manifest.ts';

describe('npm run hint -- N', () => {
  let progressDir: string;
  const previous = process.env.WORKSHOP_PROGRESS_DIR;
  beforeEach(() => {
    progressDir = fs.mkdtempSync(path.join(os.tmpdir(), 'workshop-hint-'));
    process.env.WORKSHOP_PROGRESS_DIR = progressDir;
  });
  afterEach(() => {
    if (previous === undefined) delete process.env.WORKSHOP_PROGRESS_DIR;
    else process.env.WORKSHOP_PROGRESS_DIR = previous;
  });

  it('reveals one level per call, keeps the level in .progress/hints.json, and says how many are left', async () => {
    const m = milestone(5);
    const hints = await m.hints();
    const first = await revealHint(m, false);
    expect(first).toContain(hints[0]);
    expect(first).not.toContain(hints[1]);
    expect(first).toContain(`${hints.length - 1} more`);
    const second = await revealHint(m, false);
    expect(second).toContain(hints[0]);
    expect(second).toContain(hints[1]);
    expect(JSON.parse(fs.readFileSync(path.join(progressDir, 'hints.json'), 'utf8'))).toEqual({ 5: 2 });
    const again = await revealHint(m, true);
    expect(again).not.toContain(hints[2]);
    for (let i = 2; i < hints.length; i++) await revealHint(m, false);
    expect(await revealHint(m, false)).toContain('That was the last hint');
  });
});

// Hints narrow, never solve: from the third level on, a hint shows one hard decision on another
// example, in a few lines, and none of the exercise's own names, so it cannot be pasted in as the answer.
const MAX_LINES = 12;
const MAX_LINE_LENGTH = 120;
const KEYWORDS = new Set(['if', 'for', 'while', 'switch', 'catch', 'function', 'return']);

/** The functions a learner writes in the starter: declarations, methods and arrow functions. */
function functionNames(source: string): string[] {
  const patterns = [
    /\bfunction\s+(\w+)\s*\(/g,
    /^\s*(?:async\s+)?(\w+)\s*\([^)]*\)\s*(?::[^{]+)?\{\s*$/gm,
    /\b(?:const|let)\s+(\w+)\s*=\s*(?:async\s*)?\([^)]*\)\s*(?::[^=]+)?=>/g,
  ];
  return patterns.flatMap((p) => [...source.matchAll(p)].map((m) => m[1]!)).filter((name) => !KEYWORDS.has(name));
}

/** Names of the exercise's domain that a learner writes, whichever milestone: envelope fields, headers, constants. */
const DOMAIN_NAMES = [
  ...Object.keys(DomainEventSchema.options[0].shape).filter((field) => !['messageId', 'type', 'source', 'payload'].includes(field)),
  'x-schema-version',
  'x-rpc-error',
  'PARK_HEADERS',
  ...Object.values(PARK_HEADERS),
  'EXPRESS_PRIORITY',
  'MAX_PRIORITY',
  'publishRate',
  'deliverRate',
];

function exerciseNames(m: Milestone): string[] {
  const topology = buildTopology();
  return [
    ...functionNames(fs.readFileSync(m.exercise.file, 'utf8')),
    ...topology.queues.map((q) => q.name),
    ...topology.exchanges.map((e) => e.name),
    ...EVENT_TYPES,
    ...DOMAIN_NAMES,
  ];
}

/** A whole name, not part of a longer one; `channel.consume` is amqplib's method, not the exercise's function. */
function mentions(text: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\w.-])${escaped}(?![\\w-])`).test(text);
}

describe('the hints of every milestone', () => {
  it('derives the exercise names it holds hints to', () => {
    const names = exerciseNames(milestone(7));
    for (const name of [
      'createClient',
      'call',
      'close',
      'serve',
      'payment.rpc.queue',
      'order.exchange',
      'order.created',
      'orderId',
      'x-rpc-error',
    ])
      expect(names).toContain(name);
    expect(mentions('await channel.consume(queue)', 'consume')).toBe(false);
    expect(mentions('consume(queue)', 'consume')).toBe(true);
    expect(mentions('bound to order.queue.', 'order.queue')).toBe(true);
    expect(mentions('a parked message', 'park')).toBe(false);
  });

  for (const m of MILESTONES) {
    it(`milestone ${m.number}: the concept, the API, then hard parts on another example, a few lines each, none of the exercise's names`, async () => {
      const hints = await m.hints();
      expect(
        hints.length,
        `🚨 grader/milestones/${m.slug}/hints.ts needs the concept, the API and at least one hard part`,
      ).toBeGreaterThanOrEqual(3);
      const names = exerciseNames(m);
      hints.slice(2).forEach((hint, i) => {
        const where = `grader/milestones/${m.slug}/hints.ts, level ${i + 3}`;
        const lines = hint.split('\n');
        expect(lines.length, `🚨 ${where}: at most ${MAX_LINES} lines`).toBeLessThanOrEqual(MAX_LINES);
        for (const line of lines)
          expect(line.length, `🚨 ${where}: a line over ${MAX_LINE_LENGTH} characters: ${line}`).toBeLessThanOrEqual(MAX_LINE_LENGTH);
        const named = names.filter((name) => mentions(hint, name));
        expect(named, `🚨 ${where} names the exercise's own ${named.join(', ')}: show it on another example`).toEqual([]);
      });
    });
  }
});
