// How every command finds its broker (shared/broker/find-broker.ts): RABBITMQ_URL wins; else a
// broker on localhost:5672; else, where rabbitmq-server is installed, a throwaway node of its own;
// else (no Docker here) an error that names the three ways to get one. The throwaway-node test
// points findBroker at a local port where nothing answers, so the shared broker on 5672 is untouched.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BrokerNotFoundError, findBroker, portAnswers } from '../shared/broker/find-broker.ts';
import { ManagementApi } from '../shared/broker/management-api.ts';
import { freePort } from '../shared/broker/ports.ts';
import { rabbitmqInstall } from '../shared/broker/rabbitmq-install.ts';
import { rabbitmqServerInstalled } from '../shared/broker/throwaway-node.ts';
import { createMemoryLogger } from '../shared/log.ts';

function listen(): Promise<{ port: number; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (typeof address !== 'object' || !address) return reject(new Error('no port'));
      resolve({ port: address.port, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

const localBrokerAnswers = await portAnswers('127.0.0.1', 5672);

describe('findBroker', () => {
  it('uses RABBITMQ_URL and RABBITMQ_MANAGEMENT_URL when set, without probing anything', async () => {
    const broker = await findBroker({
      env: { RABBITMQ_URL: 'amqp://alice:s%40cret@broker.invalid:5673/shop', RABBITMQ_MANAGEMENT_URL: 'http://broker.invalid:15673' },
      mayStartBroker: false,
    });
    expect(broker.source).toBe('environment');
    expect(broker.url).toBe('amqp://alice:s%40cret@broker.invalid:5673/shop');
    expect(broker.management).toEqual({ baseUrl: 'http://broker.invalid:15673', username: 'alice', password: 's@cret' });
    await broker.stop(); // a no-op: it started nothing
  });

  it("derives the management URL from RABBITMQ_URL's host when only the URL is set", async () => {
    const broker = await findBroker({ env: { RABBITMQ_URL: 'amqp://broker.invalid' }, mayStartBroker: false });
    expect(broker.management).toEqual({ baseUrl: 'http://broker.invalid:15672', username: 'guest', password: 'guest' });
  });

  it('takes a comma-separated RABBITMQ_URL as the nodes of a cluster: the first to use, the others to fail over to', async () => {
    const broker = await findBroker({
      env: { RABBITMQ_URL: 'amqp://u:p@node1.invalid:5672/shop, amqp://u:p@node2.invalid:5672/shop,amqp://u:p@node3.invalid:5672/shop' },
      mayStartBroker: false,
    });
    expect(broker.url).toBe('amqp://u:p@node1.invalid:5672/shop');
    expect(broker.failoverUrls).toEqual(['amqp://u:p@node2.invalid:5672/shop', 'amqp://u:p@node3.invalid:5672/shop']);
    expect(broker.management.baseUrl).toBe('http://node1.invalid:15672');
  });

  it.runIf(localBrokerAnswers)('finds the broker on localhost:5672 with RABBITMQ_USER / RABBITMQ_PASSWORD', async () => {
    const broker = await findBroker({ env: { RABBITMQ_USER: 'bob', RABBITMQ_PASSWORD: 'p@ss word' }, mayStartBroker: false });
    expect(broker.source).toBe('localhost');
    expect(broker.url).toBe('amqp://bob:p%40ss%20word@127.0.0.1:5672');
    expect(broker.management).toEqual({ baseUrl: 'http://127.0.0.1:15672', username: 'bob', password: 'p@ss word' });
  });

  it('without RABBITMQ_URL or a local broker, and not allowed to start one, throws BrokerNotFoundError', async () => {
    const port = await freePort();
    await expect(findBroker({ env: {}, mayStartBroker: false, localPorts: { amqp: port, management: port } })).rejects.toThrow(
      BrokerNotFoundError,
    );
  });
});

// In the machine's temporary folder, or in RABBITMQ_SERVER_ROOT's (a RabbitMQ 4 root: npm run broker:4).
const throwawayDirs = () => fs.readdirSync(rabbitmqInstall().tempBase).filter((name) => name.startsWith('workshop-rabbit-'));

describe.runIf(await rabbitmqServerInstalled())('findBroker where rabbitmq-server is installed but nothing answers', () => {
  it(
    'starts a throwaway node on spare ports with the management plugin, says so, and removes it on stop()',
    { timeout: 120_000 },
    async () => {
      const log = createMemoryLogger('test');
      const before = throwawayDirs();
      const nothingHere = await freePort();
      const broker = await findBroker({
        env: {},
        log,
        mayStartContainer: false,
        localPorts: { amqp: nothingHere, management: nothingHere },
      });
      try {
        expect(broker.source).toBe('localhost');
        expect(broker.throwawayNode).toMatch(/^workshop-\d+-\d+@localhost$/);
        const { port } = new URL(broker.url);
        expect(Number(port)).not.toBe(5672);
        expect(Number(port)).not.toBe(nothingHere);
        expect(await portAnswers('127.0.0.1', Number(port))).toBe(true);
        const overview = await new ManagementApi(broker.management).overview();
        expect(overview).toBeTruthy();
        expect(log.lines.join('\n')).toContain('starting a throwaway RabbitMQ node');
        expect(log.lines.join('\n')).toMatch(/removed when this command ends/);
        expect(throwawayDirs().filter((dir) => !before.includes(dir))).toHaveLength(1);
      } finally {
        await broker.stop();
      }
      expect(await portAnswers('127.0.0.1', Number(new URL(broker.url).port))).toBe(false);
      expect(throwawayDirs().filter((dir) => !before.includes(dir))).toEqual([]);
    },
  );

  it('removes the node when the process that started it is killed', { timeout: 120_000 }, async () => {
    const nothingHere = await freePort();
    const script = `
      import { findBroker } from ${JSON.stringify(path.resolve('shared/broker/find-broker.ts'))};
      const broker = await findBroker({ env: {}, mayStartContainer: false, localPorts: { amqp: ${nothingHere}, management: ${nothingHere} } });
      console.log('URL ' + broker.url);
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /URL (\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code} before the node was ready: ${out}`)));
    });
    const port = Number(new URL(url).port);
    expect(await portAnswers('127.0.0.1', port)).toBe(true);
    child.kill('SIGKILL'); // no exit handler runs: the watchdog cleans up
    const deadline = Date.now() + 15_000;
    while ((await portAnswers('127.0.0.1', port)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await portAnswers('127.0.0.1', port)).toBe(false);
  });
});

describe('BrokerNotFoundError', () => {
  it('names all three ways to get a broker', () => {
    const error = new BrokerNotFoundError('nothing answers');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('BrokerNotFoundError');
    expect(error.message).toContain('(nothing answers)');
    expect(error.message).toContain('docker compose up -d');
    expect(error.message).toContain('rabbitmq-plugins enable rabbitmq_management rabbitmq_prometheus');
    expect(error.message).toContain('export RABBITMQ_URL=');
  });
});

describe('portAnswers', () => {
  it('is true for a listening port and false once it is closed', async () => {
    const server = await listen();
    expect(await portAnswers('127.0.0.1', server.port)).toBe(true);
    await server.close();
    expect(await portAnswers('127.0.0.1', server.port)).toBe(false);
  });
});
