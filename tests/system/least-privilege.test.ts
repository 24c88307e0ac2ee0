// Least privilege on the broker (npm run broker:setup, BROKER_USERS_FILE): every service logs in as
// its own user. The whole order flow works with those rights; and with any service's credentials,
// no route gets another service's event to a consumer: the broker refuses the publish (topic
// permissions, no write on the exchange, a user_id that is not the connection's user), or the
// consumer parks the event because its broker-checked user_id is not that event type's publisher.
import amqp, { type ChannelModel, type Options } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES, SERVICE_NAMES, type EventType, type ServiceName } from '../../shared/messages/events.ts';
import { sampleEvent } from '../../shared/messages/sample-events.ts';
import { PARK_HEADERS } from '../../shared/layers/06-dead-letters.ts';
import { buildTopology, EXCHANGES, ownerOf, PUBLISHERS, QUEUES, SUBSCRIPTIONS } from '../../shared/topology/topology.ts';
import { codec } from '../../solutions/layers/01-publish-consume.ts';
import { removeBrokerUsers } from '../../solutions/broker-users/set-up-broker.ts';
import { identityFor, type BrokerUsersFile } from '../../solutions/broker-users/users-file.ts';
import type { RunningSystem } from '../../solutions/system.ts';
import { eventually } from '../support/eventually.ts';
import { managementApi } from '../support/vhost.ts';
import { headerOf, TestBrokerClient } from './support/broker-client.ts';
import { getJson, getOrder, placeOrderWhenAccepted, waitForStatus } from './support/order-api.ts';
import { setUpTestUsers } from './support/broker-users.ts';
import { FAST_SETTINGS, useSystemUnderTest } from './support/system-under-test.ts';
const TOPOLOGY_SETTINGS = FAST_SETTINGS.topology!;
const TOPOLOGY = buildTopology(TOPOLOGY_SETTINGS);

/** Publishes on a fresh confirm channel: 'accepted' when the broker confirms, 'refused' when it closes the channel. */
async function tryPublish(
  connection: ChannelModel,
  exchange: string,
  routingKey: string,
  type: EventType,
  orderId: string,
  options: Options.Publish = {},
): Promise<'accepted' | 'refused'> {
  const channel = await connection.createConfirmChannel();
  channel.on('error', () => {}); // an ACCESS_REFUSED or PRECONDITION_FAILED closes the channel: that is the answer
  const { content, options: encoded } = codec.encode(sampleEvent(type, { orderId }));
  const outcome = await new Promise<'accepted' | 'refused'>((resolve) => {
    channel.once('close', () => resolve('refused'));
    channel.publish(exchange, routingKey, content, { ...encoded, ...options }, (error: unknown) => resolve(error ? 'refused' : 'accepted'));
  });
  await channel.close().catch(() => {});
  return outcome;
}

/** Runs one channel operation: 'refused' when the broker closes the channel over it. */
async function tryOperation(
  connection: ChannelModel,
  operation: (channel: amqp.Channel) => Promise<unknown>,
): Promise<'allowed' | 'refused'> {
  const channel = await connection.createChannel();
  channel.on('error', () => {});
  try {
    await operation(channel);
    await channel.close();
    return 'allowed';
  } catch {
    return 'refused';
  }
}

describe('least privilege: one broker user per service', () => {
  const sut = useSystemUnderTest('least-privilege');
  const admin = managementApi();
  let users: BrokerUsersFile;
  let system: RunningSystem;
  const connections = new Map<ServiceName, ChannelModel>();

  beforeAll(async () => {
    users = await setUpTestUsers(sut, admin.credentials, TOPOLOGY_SETTINGS);
    system = await sut.start({ configFor: (service) => identityFor(users, service, sut.vhost.url) });
    for (const service of SERVICE_NAMES) {
      const connection = await amqp.connect(identityFor(users, service, sut.vhost.url).brokerUrl);
      connection.on('error', () => {});
      connections.set(service, connection);
    }
  });

  afterAll(async () => {
    await Promise.all([...connections.values()].map((connection) => connection.close().catch(() => {})));
    if (users) await removeBrokerUsers(admin.credentials, users);
  });

  const as = (service: ServiceName) => connections.get(service)!;

  it('runs the whole order flow, the payment RPC included, on those rights alone', async () => {
    const baseUrl = `${system.baseUrl}`;
    await placeOrderWhenAccepted(baseUrl, { orderId: 'lp-1', user: 'ines', items: ['item1'] });
    await waitForStatus(baseUrl, 'lp-1', 'completed', 20_000);
    const payment = await getJson<{ status: string }>(`${baseUrl}/orders/lp-1/payment`);
    expect(payment.status, JSON.stringify(payment.body)).toBe(200);
    for (const service of SERVICE_NAMES) {
      expect(
        sut.logs.linesOf(service).filter((line) => line.includes('ACCESS_REFUSED')),
        `${service} was refused nothing`,
      ).toEqual([]);
    }
  });

  it("no service's user can get another service's event to a consumer, by any route", async () => {
    const client = await TestBrokerClient.connect(sut.vhost.url);
    const parked = await client.collect(QUEUES.deadLetter);
    const accepted: string[] = [];
    const refusedOwn: string[] = [];
    // Every attempt on a channel of its own (a refusal closes it), all of them at once.
    const attempts: Promise<void>[] = [];
    let n = 0;
    for (const service of SERVICE_NAMES) {
      const connection = as(service);
      const own = { userId: users.users[service].username };
      for (const type of EVENT_TYPES) {
        const publishers = PUBLISHERS[type].map((publisher) => publisher.service);
        if (publishers.includes(service)) {
          // The control: its own events on order.exchange are let through (shipping's delivery.confirmed goes through its delay queue).
          if (PUBLISHERS[type].some((publisher) => publisher.service === service && publisher.via === undefined)) {
            attempts.push(
              tryPublish(connection, EXCHANGES.order, type, type, `own-${service}-${type}`, own).then((outcome) => {
                if (outcome !== 'accepted') refusedOwn.push(`${service} ${type}`);
              }),
            );
          }
          continue;
        }
        const impostor = { userId: users.users[publishers[0]!].username };
        const consumers = [
          ...Object.entries(SUBSCRIPTIONS)
            .filter(([, types]) => types.includes(type))
            .map(([name]) => QUEUES[name as keyof typeof SUBSCRIPTIONS]),
          QUEUES.audit,
          ...(type.startsWith('order.') ? [QUEUES.notificationEmail, QUEUES.notificationSms] : []),
        ];
        const routes: [string, string, Options.Publish][] = [
          ...[own, impostor, {}].map((options): [string, string, Options.Publish] => [EXCHANGES.order, type, options]),
          ...[EXCHANGES.audit, EXCHANGES.notification, EXCHANGES.unroutable].map((exchange): [string, string, Options.Publish] => [
            exchange,
            type,
            own,
          ]),
          ...consumers.flatMap((queue): [string, string, Options.Publish][] => [
            ['', queue, {}],
            ['', queue, own],
            ['', queue, impostor],
            [EXCHANGES.retry, queue, own],
          ]),
        ];
        for (const [exchange, key, options] of routes) {
          const id = `forged-${service}-${type}-${n++}`;
          attempts.push(
            tryPublish(connection, exchange, key, type, id, options).then((outcome) => {
              if (outcome === 'accepted') accepted.push(`${id}|${exchange || '(default)'}|${key}`);
            }),
          );
        }
      }
    }
    await Promise.all(attempts);
    expect(refusedOwn, 'a service may publish its own events').toEqual([]);
    // What the broker let through went straight into a service's queue, addressed by name: the
    // consumer must have parked each one, as forged, and applied none.
    expect(
      accepted.every((entry) => entry.split('|')[1] === '(default)'),
      `only the default exchange lets anything through: ${accepted.join(', ')}`,
    ).toBe(true);
    expect(
      accepted.length,
      'some services (order, payment, shipping) may address a queue by name, so some forgeries reach a consumer',
    ).toBeGreaterThan(0);
    const forgedIds = accepted.map((entry) => entry.split('|')[0]!);
    await eventually(() => forgedIds.every((id) => parked.messages.some((message) => message.properties.correlationId === id)), {
      timeoutMs: 20_000,
      what: `all ${forgedIds.length} forgeries that reached a consumer parked in ${QUEUES.deadLetter}`,
    });
    for (const message of parked.messages.filter((m) => forgedIds.includes(String(m.properties.correlationId)))) {
      expect(headerOf(message, PARK_HEADERS.reason)).toMatch(/^refused as forged: /);
    }
    for (const id of forgedIds.filter((id) => id.includes('order.created')))
      expect(await getOrder(`${system.baseUrl}`, id)).toBeUndefined();
    await client.close();
  });

  it('an event without a user_id, even from an admin, is parked as forged', async () => {
    const client = await TestBrokerClient.connect(sut.vhost.url);
    const parked = await client.collect(QUEUES.deadLetter);
    await client.publishEvent(EXCHANGES.order, 'order.created', sampleEvent('order.created', { orderId: 'lp-admin-forged' }));
    const message = await parked.waitFor(
      (m) => m.properties.correlationId === 'lp-admin-forged' && headerOf(m, PARK_HEADERS.queue) === QUEUES.inventory,
      'the forged order.created parked from inventory.queue',
    );
    expect(headerOf(message, PARK_HEADERS.reason)).toContain('set no user_id');
    expect(await getOrder(`${system.baseUrl}`, 'lp-admin-forged')).toBeUndefined();
    await client.close();
  });

  it("no service's user can consume, declare, purge or delete a queue it does not own", async () => {
    const wrongly: string[] = [];
    const attempts: Promise<void>[] = [];
    const attempt = (service: ServiceName, what: string, operation: (channel: amqp.Channel) => Promise<unknown>) => {
      attempts.push(
        tryOperation(as(service), operation).then((outcome) => {
          if (outcome === 'allowed') wrongly.push(`${service} ${what}`);
        }),
      );
    };
    for (const service of SERVICE_NAMES) {
      for (const spec of TOPOLOGY.queues.filter((queue) => ownerOf(queue) !== service)) {
        attempt(service, `consume ${spec.name}`, (channel) => channel.consume(spec.name, () => {}));
        attempt(service, `get ${spec.name}`, (channel) => channel.get(spec.name));
        attempt(service, `purge ${spec.name}`, (channel) => channel.purgeQueue(spec.name));
        attempt(service, `delete ${spec.name}`, (channel) => channel.deleteQueue(spec.name));
        attempt(service, `declare ${spec.name}`, (channel) => channel.assertQueue(spec.name, { durable: true }));
      }
      for (const exchange of TOPOLOGY.exchanges)
        attempt(service, `delete ${exchange.name}`, (channel) => channel.deleteExchange(exchange.name));
    }
    await Promise.all(attempts);
    expect(wrongly).toEqual([]);
    // And the queues are all still there, with their consumers.
    const client = await TestBrokerClient.connect(sut.vhost.url);
    for (const spec of TOPOLOGY.queues) await expect(client.messagesIn(spec.name)).resolves.toBeGreaterThanOrEqual(0);
    await client.close();
  });
});
