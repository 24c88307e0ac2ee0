// The order system as `npm start` runs it (six service processes under the supervisor), on a vhost
// and data directory of the benchmark's own, with the simulated customer confirming at once.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withVhost } from '../../shared/broker/broker-url.ts';
import type { BrokerEndpoint } from '../../shared/broker/find-broker.ts';
import { ManagementApi } from '../../shared/broker/management-api.ts';
import { SERVICE_NAMES } from '../../shared/messages/events.ts';
import { commandLine, descendantsOf } from './process-usage.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const READY_TIMEOUT_MS = 60_000;

export interface SystemUnderTest {
  apiUrl: string;
  /** The vhost the services run on: the tap and the queue sampling use it too. */
  brokerUrl: string;
  vhost: string;
  /** The supervisor and each service, by name. */
  processes(): Map<string, number>;
  /** How long from spawn until the banner said every service is ready. */
  readyMs: number;
  /** Log lines the supervisor printed so far (every service's lines go through it). */
  logLines(): number;
  stop(): Promise<void>;
}

export interface StartOptions {
  broker: BrokerEndpoint;
  /** Extra environment for every service (PREFETCH, WORKERS, NODE_OPTIONS for a profile). */
  env?: NodeJS.ProcessEnv;
  label: string;
}

export async function startSystemUnderTest({ broker, env = {}, label }: StartOptions): Promise<SystemUnderTest> {
  const api = new ManagementApi(broker.management);
  const vhost = `bench-load-${label}-${process.pid}`;
  await api.deleteVhost(vhost);
  await api.createVhost(vhost);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-load-'));
  const brokerUrl = withVhost(broker.url, vhost);
  const started = performance.now();
  const child = spawn(process.execPath, ['solutions/start.mjs', '--no-dashboard'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      NO_COLOR: '1',
      RABBITMQ_URL: brokerUrl,
      RABBITMQ_MANAGEMENT_URL: broker.management.baseUrl,
      HTTP_PORT: '0',
      DATA_DIR: dataDir,
      DELIVERY_DELAY_MS: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = captureOutput(child);
  const port = await waitForBanner(child, output).catch(async (error: unknown) => {
    await api.deleteVhost(vhost);
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  const readyMs = performance.now() - started;

  const processes = () => {
    const named = new Map<string, number>([['supervisor', child.pid as number]]);
    for (const pid of descendantsOf(child.pid as number)) {
      const args = commandLine(pid);
      // run-service.ts through tsx, or its bundle (solutions/supervisor/bundle.mjs).
      const script = args.findIndex((arg) => /run-service\.(ts|mjs)$/.test(arg));
      const name = script >= 0 ? args[script + 1] : undefined;
      if (name && (SERVICE_NAMES as readonly string[]).includes(name)) named.set(name, pid);
    }
    return named;
  };

  return {
    apiUrl: `http://127.0.0.1:${port}`,
    brokerUrl,
    vhost,
    processes,
    readyMs,
    logLines: () => output.lines,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('close', resolve));
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      }
      await api.deleteVhost(vhost);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface CapturedOutput {
  lines: number;
  /** The last lines, for an error message. */
  tail: string[];
  text: string;
}

function captureOutput(child: ChildProcess): CapturedOutput {
  const captured: CapturedOutput = { lines: 0, tail: [], text: '' };
  const take = (chunk: Buffer) => {
    const text = chunk.toString();
    if (captured.text.length < 20_000) captured.text += text;
    for (const line of text.split('\n')) {
      if (!line) continue;
      captured.lines++;
      captured.tail.push(line);
      if (captured.tail.length > 40) captured.tail.shift();
    }
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  return captured;
}

/** The banner's "Follow it: curl http://localhost:PORT/orders/123" names the port HTTP_PORT=0 got. */
function waitForBanner(child: ChildProcess, output: CapturedOutput): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(`not ready after ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    const poll = setInterval(() => {
      const port = /curl http:\/\/localhost:(\d+)\/orders\/123/.exec(output.text)?.[1];
      if (port && output.text.includes('Ctrl-C stops everything')) {
        done();
        resolve(Number(port));
      }
    }, 20);
    const onExit = () => fail('npm start exited before it was ready');
    child.once('close', onExit);
    function done() {
      clearTimeout(timer);
      clearInterval(poll);
      child.off('close', onExit);
    }
    function fail(why: string) {
      done();
      child.kill('SIGKILL');
      reject(new Error(`the system did not start: ${why}. Its last lines:\n${output.tail.join('\n')}`));
    }
  });
}
