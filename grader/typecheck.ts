// The type errors of an exercise file, found while its checks run: a milestone does not pass while
// there are any. With the native TypeScript compiler (@typescript/native-preview's tsgo, a binary in
// the npm package of this platform) it takes well under a second; where that package is missing
// (a platform it has no binary for), typecheck-cli.mjs does the same with the TypeScript API in a
// Node child, in about three seconds. Either way only errors in the learner's folder count, as
// "file:line:col - TSnnnn: message".
import { execFile, fork } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPECHECK_CLI = fileURLToPath(new URL('./typecheck-cli.mjs', import.meta.url));
/** A compiler that never finishes says nothing about the learner's code. */
const TIMEOUT_MS = 60_000;

/** The tsgo binary of this platform's package, or undefined when it is not installed. */
export function nativeCompiler(root = process.cwd()): string | undefined {
  try {
    const require = createRequire(path.join(root, 'package.json'));
    const manifest = require.resolve(`@typescript/native-preview-${process.platform}-${process.arch}/package.json`);
    const binary = path.join(path.dirname(manifest), 'lib', process.platform === 'win32' ? 'tsgo.exe' : 'tsgo');
    return fs.existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

/** Type errors of `file` and what it imports, in its own folder only. Never rejects. */
export function typeErrorsOf(file: string, options: { root?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string[]> {
  const root = options.root ?? process.cwd();
  const env = options.env ?? process.env;
  const tsgo = nativeCompiler(root);
  return tsgo ? nativeTypeErrors(tsgo, file, root, env).catch(() => apiTypeErrors(file, env)) : apiTypeErrors(file, env);
}

/**
 * tsgo on a throwaway tsconfig that extends the project's, with the exercise file as its only root:
 * the project's compiler options, and no other file of the project checked for its own sake.
 */
async function nativeTypeErrors(tsgo: string, file: string, root: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const absolute = path.resolve(root, file);
  const projectConfig = path.join(root, 'tsconfig.json');
  const config = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'workshop-typecheck-')), 'tsconfig.json');
  // typeRoots: relative to the config that names them, so they must say where the project's are.
  const typeRoots = [path.join(root, 'node_modules', '@types')];
  fs.writeFileSync(
    config,
    JSON.stringify({ extends: projectConfig, compilerOptions: { noEmit: true, typeRoots }, include: [], files: [absolute] }),
  );
  try {
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        tsgo,
        ['-p', config, '--pretty', 'false'],
        { cwd: root, env, timeout: TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout) => {
          // Exit 1 or 2 means "there are errors", and stdout lists them; anything else is not a verdict.
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- execFile's error is an Error; its Omit<> type hides that from the rule
          if (error && (typeof error.code !== 'number' || error.killed)) reject(error);
          else resolve(stdout);
        },
      );
    });
    return parseDiagnostics(output, path.dirname(absolute) + path.sep, root);
  } finally {
    fs.rmSync(path.dirname(config), { recursive: true, force: true });
  }
}

/** tsc's plain output ("file(line,col): error TSnnnn: message", the rest of a message indented) → the learner's errors. */
export function parseDiagnostics(output: string, learnerFolder: string, root: string): string[] {
  const errors: Array<{ file: string; text: string }> = [];
  for (const line of output.split(/\r?\n/)) {
    const diagnostic = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line);
    if (diagnostic) {
      const [, file = '', row, column, code, message] = diagnostic;
      const absolute = path.resolve(root, file);
      errors.push({ file: absolute, text: `${path.relative(root, absolute)}:${row}:${column} - ${code}: ${message}` });
    } else if (/^\s+\S/.test(line) && errors.length > 0) {
      const last = errors[errors.length - 1]!;
      last.text += `\n${line}`;
    }
  }
  return errors.filter((error) => error.file.startsWith(learnerFolder)).map((error) => error.text);
}

/** The TypeScript API in a child of its own (typecheck-cli.mjs): plain JavaScript, no tsx loader. */
function apiTypeErrors(file: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  return new Promise((resolve) => {
    const child = fork(TYPECHECK_CLI, [file], { env, execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let errors: string[] = [];
    child.on('message', (message: { errors: string[] }) => (errors = message.errors));
    child.on('exit', () => resolve(errors));
    child.on('error', () => resolve([]));
  });
}
