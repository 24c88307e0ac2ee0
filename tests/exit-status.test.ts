// Whose fault it is decides the exit status, the same for every command (shared/cli/errors.ts):
// help 0, a problem the learner can fix 1, a wrong command line 2, the environment 3, a bug 4.
// Through runMain itself (a small command that throws each kind), then through real commands.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CliError, EnvironmentError, fromWire, kindOf, REPORT_A_BUG, toWire, WorkshopBug } from '../shared/cli/errors.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** A port nothing listens on (it was free a moment ago). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function run(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} did not end within 60 s:\n${stdout}${stderr}`));
    }, 60_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('runMain: one exit status per kind of error', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['help', 0, /Usage: throw-kind/],
    ['learner', 1, /^your file is missing$/m],
    ['usage', 2, /throw-kind: no such option --x\n\nUsage: throw-kind/],
    ['environment', 3, /^error: no broker answers$/m],
    ['refused', 3, /^error: fetch failed$/m],
    ['bug', 4, /WorkshopBug: the checks do not load/],
    ['thrown', 4, /TypeError: cannot read properties of undefined\n\s+at /],
  ];
  it.each(cases)('%s exits %i', { timeout: 60_000 }, async (kind, status, says) => {
    const result = await run('tests/support/throw-kind.ts', [kind]);
    expect(result.code, result.stderr).toBe(status);
    expect(status === 0 ? result.stdout : result.stderr).toMatch(says);
    if (status === 4) expect(result.stderr).toContain(REPORT_A_BUG);
    else expect(result.stderr).not.toContain(REPORT_A_BUG);
  });

  it('an error crosses a process boundary as its kind, not its class name', () => {
    for (const error of [new CliError('a'), new EnvironmentError('b'), new WorkshopBug('c'), new TypeError('d')]) {
      const wire = JSON.parse(JSON.stringify(toWire(error))) as ReturnType<typeof toWire>;
      expect(kindOf(fromWire(wire))).toBe(kindOf(error));
      expect(fromWire(wire).message).toBe(error.message);
    }
    expect(toWire(new TypeError('d')).stack).toContain('TypeError: d');
  });
});

describe('the commands exit by whose fault it is', () => {
  it('npm run audit without an audit log: a problem to fix, exit 1', { timeout: 60_000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'exit-status-'));
    try {
      const result = await run('solutions/services/audit/query-cli.ts', [], { DATA_DIR: dataDir });
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain('No audit log at');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('npm run service with a WORKSHOP_LAYERS it does not know: a wrong command line, exit 2', { timeout: 60_000 }, async () => {
    const result = await run('solutions/run-service.ts', ['inventory'], { WORKSHOP_LAYERS: 'theirs' });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('WORKSHOP_LAYERS is "theirs"');
  });

  it('npm run monitor with nothing at RABBITMQ_URL: the environment, exit 3, no stack trace', { timeout: 60_000 }, async () => {
    const port = await freePort(); // not the discard port 9: fetch refuses it as a "bad port" before connecting
    const result = await run('solutions/monitor.ts', ['--once'], {
      RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${port}`,
      RABBITMQ_MANAGEMENT_URL: `http://127.0.0.1:${port}`,
    });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/^error: /m);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
