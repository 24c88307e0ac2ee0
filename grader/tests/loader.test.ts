// The grading child's TypeScript loader (grader/loader/): runs a learner's .ts file as tsx would,
// resolves what tsx resolves (an extensionless import, .js naming a .ts file), maps a stack trace to
// the .ts line, and compiles an edited file anew (the cache is keyed by content, not by path).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const LOADER = fileURLToPath(new URL('../loader/register.mjs', import.meta.url));
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'workshop-loader-'));
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

const run = (file: string) => spawnSync(process.execPath, ['--import', LOADER, file], { encoding: 'utf8', timeout: 60_000 });

describe('the grading child loader', () => {
  it('runs TypeScript, resolving an extensionless import and a .js name for a .ts file, class fields as tsx compiles them', () => {
    fs.writeFileSync(
      path.join(folder, 'helper.ts'),
      'export class Box { constructor(readonly value: number) {} twice = (): number => this.value * 2 }\n',
    );
    fs.writeFileSync(path.join(folder, 'other.ts'), 'export const other: string = "other";\n');
    fs.writeFileSync(
      path.join(folder, 'main.ts'),
      'import { Box } from "./helper";\nimport { other } from "./other.js";\nconst box: Box = new Box(21);\nconsole.log(box.twice(), other, Box.name);\n',
    );
    expect(execFileSync(process.execPath, ['--import', LOADER, path.join(folder, 'main.ts')], { encoding: 'utf8' }).trim()).toBe(
      '42 other Box',
    );
  });

  it('names the .ts file and line in a stack trace, and compiles the file again once it changed', () => {
    const file = path.join(folder, 'throws.ts');
    fs.writeFileSync(file, 'const n: number = 1;\n\nthrow new Error(`boom ${n}`);\n');
    const first = run(file);
    expect(first.status).not.toBe(0);
    expect(first.stderr).toContain('boom 1');
    expect(first.stderr).toContain(`${file}:3:`);
    fs.writeFileSync(file, 'const n: number = 2;\nthrow new Error(`boom ${n}`);\n');
    const second = run(file);
    expect(second.stderr).toContain('boom 2');
    expect(second.stderr).toContain(`${file}:2:`);
  });

  it('reports a syntax error in the file, naming it', () => {
    const file = path.join(folder, 'broken.ts');
    fs.writeFileSync(file, 'export const x: number = ;\n');
    const result = run(file);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('broken.ts');
  });
});
