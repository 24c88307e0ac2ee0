// How every command finds its broker (shared/broker/find-broker.ts): RABBITMQ_URL wins; else a
// broker on localhost:5672; else (no Docker here) an error that names the three ways to get one.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { BrokerNotFoundError, findBroker, portAnswers } from '../shared/broker/find-broker.ts';

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
      allowContainer: false,
    });
    expect(broker.source).toBe('environment');
    expect(broker.url).toBe('amqp://alice:s%40cret@broker.invalid:5673/shop');
    expect(broker.management).toEqual({ baseUrl: 'http://broker.invalid:15673', username: 'alice', password: 's@cret' });
    await broker.stop(); // a no-op: it started nothing
  });

  it("derives the management URL from RABBITMQ_URL's host when only the URL is set", async () => {
    const broker = await findBroker({ env: { RABBITMQ_URL: 'amqp://broker.invalid' }, allowContainer: false });
    expect(broker.management).toEqual({ baseUrl: 'http://broker.invalid:15672', username: 'guest', password: 'guest' });
  });

  it.runIf(localBrokerAnswers)('finds the broker on localhost:5672 with RABBITMQ_USER / RABBITMQ_PASSWORD', async () => {
    const broker = await findBroker({ env: { RABBITMQ_USER: 'bob', RABBITMQ_PASSWORD: 'p@ss word' }, allowContainer: false });
    expect(broker.source).toBe('localhost');
    expect(broker.url).toBe('amqp://bob:p%40ss%20word@127.0.0.1:5672');
    expect(broker.management).toEqual({ baseUrl: 'http://127.0.0.1:15672', username: 'bob', password: 'p@ss word' });
  });

  it.skipIf(localBrokerAnswers)('without RABBITMQ_URL, a local broker or Docker, throws BrokerNotFoundError', async () => {
    await expect(findBroker({ env: {}, allowContainer: false })).rejects.toThrow(BrokerNotFoundError);
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
