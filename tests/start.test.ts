// `npm start` as a learner runs it: the supervisor finds the broker, starts the six services as
// child processes, prints the banner; the seed's order completes over HTTP; Ctrl-C stops
// everything cleanly. Every wait polls with a deadline.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readEnv } from '../shared/config.ts';
import { SERVICE_NAMES, type ServiceName } from '../shared/messages/events.ts';
import { parseStartArgs, UsageError } from '../solutions/supervisor/args.ts';
import { formatLine } from '../solutions/supervisor/log-stream.ts';
import { checkPorts, wantedPorts } from '../solutions/supervisor/ports.ts';
import { eventually } from './support/eventually.ts';
import { freePort, runStart, type StartProcess, stopIfRunning, waitForExit, waitForOutput } from './support/start-process.ts';
import { useTestVhost } from './support/vhost.ts';

/** A process that listens on a free port of 127.0.0.1, prints it, and stays until killed. */
const HOLD_A_PORT =
  "const s = require('node:net').createServer(); s.listen(0, '127.0.0.1', () => console.log(s.address().port)); setInterval(() => {}, 1000);";

function firstLine(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(text.split('\n')[0]!);
    });
    stream.once('end', () => reject(new Error(`no line before the end: ${text}`)));
  });
}

const SEED_ORDER = { orderId: '123', user: 'gayal', items: ['item1', 'item2'] };

const linesOf = (service: string, output: string) =>
  output.split('\n').filter((line) => line.startsWith(`[${service}]`) || line.startsWith(`[${service}:`));

describe('npm start: the whole system', () => {
  const vhost = useTestVhost('start');
  let dataDir: string;
  let httpPort: number;
  let run: StartProcess | undefined;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'order-workshop-start-'));
    httpPort = await freePort();
  });

  afterAll(async () => {
    await stopIfRunning(run);
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts all six services and prints the banner with the curl to try', { timeout: 100_000 }, async () => {
    run = runStart([], {
      RABBITMQ_URL: vhost.url,
      RABBITMQ_MANAGEMENT_URL: inject('managementUrl'),
      DATA_DIR: dataDir,
      HTTP_PORT: String(httpPort),
      DELIVERY_DELAY_MS: '300',
    });
    await waitForOutput(run, `curl http://localhost:${httpPort}/orders/123`, 90_000);

    const output = run.output();
    expect(output).toContain(
      `curl -X POST http://localhost:${httpPort}/orders -H "Content-Type: application/json" -d '{"orderId": "123", "user": "gayal", "items": ["item1", "item2"]}'`,
    );
    expect(output).toContain(inject('managementUrl'));
    for (const service of SERVICE_NAMES) expect(linesOf(service, output), `${service} printed nothing`).not.toHaveLength(0);
    // Log lines all carry a prefix; only the banner (indented) and blank lines do not.
    const unprefixed = output.split('\n').filter((line) => line !== '' && !line.startsWith('  ') && !/^\[[a-z]+[\]:]/.test(line));
    expect(unprefixed).toEqual([]);
    expect(output).not.toContain('\x1b['); // NO_COLOR, and not a terminal
  });

  it("completes the seed's order, with its status events in causal order", { timeout: 40_000 }, async () => {
    const api = `http://localhost:${httpPort}`;
    const placed = await fetch(`${api}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(SEED_ORDER),
    });
    expect(placed.status, await placed.clone().text()).toBeLessThan(300);

    const order = await eventually(
      async () => {
        const response = await fetch(`${api}/orders/123`);
        const body = (await response.json()) as { status: string; history: { status: string; event: string }[] };
        return body.status === 'completed' && body;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'order 123 to be completed' },
    );
    const events = order.history.map((entry) => entry.event);
    const milestones = ['order.created', 'order.paid', 'order.shipped', 'order.completed'];
    expect(
      events.filter((event) => milestones.includes(event)),
      `history: ${JSON.stringify(order.history)}`,
    ).toEqual(milestones);
  });

  it('stops every service on Ctrl-C and exits 0', { timeout: 30_000 }, async () => {
    if (!run) throw new Error('npm start is not running');
    const before = run.output().length;
    run.signal('SIGINT');
    const exit = await waitForExit(run, 20_000);
    const output = run.output();
    expect(exit, output.slice(before)).toEqual({ code: 0, signal: null });
    for (const service of SERVICE_NAMES) {
      expect(linesOf(service, output.slice(before)), `${service} did not log that it stopped:\n${output.slice(before)}`).toContainEqual(
        expect.stringMatching(/\bstopped\b/),
      );
    }
  });
});

describe('npm start -- --services', () => {
  const vhost = useTestVhost('start-subset');
  let dataDir: string;
  let run: StartProcess | undefined;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'order-workshop-subset-'));
  });

  afterAll(async () => {
    await stopIfRunning(run);
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts only the named services', { timeout: 100_000 }, async () => {
    run = runStart(['--services', 'inventory,payment'], {
      RABBITMQ_URL: vhost.url,
      RABBITMQ_MANAGEMENT_URL: inject('managementUrl'),
      DATA_DIR: dataDir,
      HTTP_PORT: String(await freePort()),
    });
    await waitForOutput(run, 'Ctrl-C stops everything', 90_000);
    const output = run.output();
    expect(output).toContain('Order system running: inventory, payment');
    expect(output).toContain('The order service is not running');
    const absent: ServiceName[] = ['order', 'shipping', 'notification', 'audit'];
    for (const service of absent) expect(linesOf(service, output)).toEqual([]);

    run.signal('SIGINT');
    expect((await waitForExit(run, 20_000)).code).toBe(0);
  });
});

describe('npm start: problems a learner can fix', () => {
  it('says so when nothing answers at RABBITMQ_URL, and exits 1', { timeout: 30_000 }, async () => {
    const port = await freePort(); // free, so nothing listens there
    const run = runStart([], { RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${port}` });
    const exit = await waitForExit(run, 20_000);
    expect(exit.code).toBe(1);
    expect(run.output()).toContain(`nothing answers at 127.0.0.1:${port}`);
    expect(run.output()).not.toMatch(/\n\s+at /); // no stack trace
  });

  it(
    'refuses at once when a port it needs is taken, naming the npm start that holds it, and starts nothing',
    { timeout: 60_000 },
    async () => {
      // A stand-in for another npm start: its command line names solutions/start.ts, and it holds a port.
      const holder = spawn(process.execPath, ['-e', HOLD_A_PORT, 'solutions/start.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const port = Number(await firstLine(holder.stdout));
        // Nothing answers at this RABBITMQ_URL: had npm start gone looking for the broker, it would say so.
        const run = runStart([], { HTTP_PORT: String(port), RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${await freePort()}` });
        const exit = await waitForExit(run, 40_000);
        const output = run.output();
        expect(exit.code, output).toBe(1);
        expect(output).toContain(`port ${port} (the HTTP API, HTTP_PORT) is in use (another npm start, pid ${holder.pid}`);
        expect(output).toContain('Nothing was started');
        expect(output).not.toContain('nothing answers');
        expect(output).not.toContain('starting order');
        expect(output).not.toMatch(/\n\s+at /);
      } finally {
        holder.kill();
      }
    },
  );

  it('checks only the ports of what it starts, and tells a required port from a metrics port', async () => {
    const env = readEnv({ HTTP_PORT: '0', DASHBOARD_PORT: '8091', METRICS_PORT: '9201' });
    expect(wantedPorts(env, ['payment', 'audit'], false).map((w) => [w.port, w.required])).toEqual([
      [9203, false],
      [9206, false],
    ]);
    expect(wantedPorts(env, ['order'], true).map((w) => [w.port, w.variable])).toEqual([
      [8091, 'DASHBOARD_PORT'],
      [9201, 'METRICS_PORT'],
    ]);
    expect(wantedPorts(readEnv({ METRICS_PORT: '0' }), ['order'], false).map((w) => w.port)).toEqual([8080]);

    const held = net.createServer();
    const port = await new Promise<number>((resolve) =>
      held.listen(0, '127.0.0.1', () => resolve((held.address() as net.AddressInfo).port)),
    );
    try {
      const report = await checkPorts([
        { port, host: '127.0.0.1', what: 'the dashboard', variable: 'DASHBOARD_PORT', required: true },
        { port, host: '127.0.0.1', what: "order's /metrics", variable: 'METRICS_PORT', required: false },
        { port: await freePort(), host: '127.0.0.1', what: 'the HTTP API', variable: 'HTTP_PORT', required: true },
      ]);
      expect(report.blocking).toEqual([
        expect.stringContaining(`port ${port} (the dashboard, DASHBOARD_PORT) is in use (pid ${process.pid}`),
      ]);
      expect(report.warnings).toEqual([expect.stringContaining(`port ${port} (order's /metrics, METRICS_PORT) is in use`)]);
    } finally {
      held.close();
    }
  });

  it('rejects an unknown service name with the usage, exit 2', { timeout: 30_000 }, async () => {
    const run = runStart(['--services', 'order,billing'], {});
    expect((await waitForExit(run, 20_000)).code).toBe(2);
    expect(run.output()).toContain('unknown service billing');
    expect(run.output()).toContain('Usage: npm start');
  });
});

describe('npm start: options and log lines', () => {
  it('keeps the prefix a service printed, adds it when missing, colours only when asked', () => {
    expect(formatLine('order', '[order] placed order 123', false)).toBe('[order] placed order 123');
    expect(formatLine('order', '[order:http] GET /health', false)).toBe('[order:http] GET /health');
    expect(formatLine('order', '    at placeOrder (place-order.ts:12)', false)).toBe('[order]     at placeOrder (place-order.ts:12)');
    expect(formatLine('payment', '[payment] charged', true)).toBe('\x1b[32m[payment] charged\x1b[0m');
  });

  it('parses --services into known names, in the system order', () => {
    expect(parseStartArgs([]).services).toEqual([...SERVICE_NAMES]);
    expect(parseStartArgs(['--services', 'payment,order']).services).toEqual(['order', 'payment']);
    expect(parseStartArgs(['--services=audit']).services).toEqual(['audit']);
    expect(() => parseStartArgs(['--services', 'billing'])).toThrow(UsageError);
    expect(() => parseStartArgs(['--verbose'])).toThrow(UsageError);
  });

  it('parses --layers and --help; --help wins over a wrong option', () => {
    expect(parseStartArgs(['--layers', 'mine'])).toMatchObject({ layers: 'mine', help: false });
    expect(() => parseStartArgs(['--layers', 'theirs'])).toThrow(/--layers takes "solutions" or "mine", not "theirs"/);
    expect(parseStartArgs(['--help']).help).toBe(true);
    expect(parseStartArgs(['-h', '--services', 'billing']).help).toBe(true);
  });
});
