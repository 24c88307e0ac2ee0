// What the command tests share: running an entry point as npm does, with a deadline, and temporary folders.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Progress } from '../../shared/workshop/progress.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
export const NO_PROGRESS: Progress = { passed: {}, lastRun: {} };

export interface Run {
  code: number | null;
  /** stdout and stderr, interleaved as they arrived. */
  output: string;
  stdout: string;
  stderr: string;
}

/** Runs an entry point the way npm does (node --import tsx; a plain-JavaScript one, which registers tsx itself, with node alone), with a deadline. */
export function runScript(
  script: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(script.endsWith('.mjs') ? [] : ['--import', TSX]), path.join(ROOT, script), ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} did not finish in ${options.timeoutMs ?? 30_000} ms. Output:\n${output}`));
    }, options.timeoutMs ?? 30_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, stdout, stderr });
    });
  });
}

export function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `workshop-cli-${label}-`));
}
