// `npm run hint`: one more level per call, remembered in .progress/, saying how many are left.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { revealHint } from '../cli/hint.ts';
import { milestone } from '../manifest.ts';

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
