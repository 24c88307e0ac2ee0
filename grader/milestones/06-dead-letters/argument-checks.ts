// Milestone 6's checks on what the broker is told: the dead-letter arguments and TTLs each queue is
// declared with (and what they do to a rejected message and an unread notification), and reading
// the number of tries so far from x-death.
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { buildTopology, EXCHANGES, QUEUES, queueSpec, retryQueueName, routingHeadersFor } from '../../../shared/topology/topology.ts';
import type { Topology, TopologySettings } from '../../../shared/topology/types.ts';
import { codec } from '../../../solutions/layers/01-publish-consume.ts';
import { type Check, type CheckContext, expectThat } from '../../check.ts';
import { sampleOrderCreated, waitFor } from '../../checks/support.ts';
import { deathsOf, declare, FAST_RETRY_MS, inbox, paymentFailed, retryLoop, sendTo, watchDeadLetterQueue } from './support.ts';

/** The notification TTL for the check of queueArguments (CHECK_SETTINGS' 1 s would be most of the budget). */
const SHORT_TTL_MS = 300;

/** The arguments this milestone is about, as the broker holds them, keys sorted. */
function deadLetterArguments(args: Record<string, unknown> | undefined): Record<string, unknown> {
  const entries = Object.entries(args ?? {}).filter(([key]) => key.startsWith('x-dead-letter-') || key === 'x-message-ttl');
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

/** `x-message-ttl = 300, its spec says 1000`: one argument that differs from what the spec says. */
function argumentDifference(key: string, declared: Record<string, unknown>, wanted: Record<string, unknown>): string {
  const asDeclared = key in declared ? `= ${JSON.stringify(declared[key])}` : 'missing';
  const asWanted = key in wanted ? `, its spec says ${JSON.stringify(wanted[key])}` : ', its spec says none';
  return `${key} ${asDeclared}${asWanted}`;
}

/** The arguments as the broker holds them, next to what each queue's spec says: the queues that differ, and a hint for the likeliest cause. */
async function wrongArguments(
  context: CheckContext<'deadLetters'>,
  topology: Topology,
  queues: string[],
): Promise<{ wrong: string[]; hint?: string }> {
  const { reference, vhost } = context;
  const wrong: string[] = [];
  let hint: string | undefined;
  const infos = await Promise.all(
    queues.map((name) =>
      vhost.api.request<{ arguments?: Record<string, unknown> }>(
        'GET',
        `/queues/${encodeURIComponent(vhost.name)}/${encodeURIComponent(name)}`,
      ),
    ),
  );
  for (const [index, name] of queues.entries()) {
    const declared = deadLetterArguments(infos[index]?.arguments);
    const wanted = deadLetterArguments(reference.deadLetters.queueArguments(queueSpec(topology, name)));
    const keys = [...new Set([...Object.keys(declared), ...Object.keys(wanted)])].sort();
    const differences = keys
      .filter((key) => JSON.stringify(declared[key]) !== JSON.stringify(wanted[key]))
      .map((key) => argumentDifference(key, declared, wanted));
    if (differences.length > 0) wrong.push(`${name}: ${differences.join('; ')}`);
    if (wanted['x-dead-letter-exchange'] === '' && declared['x-dead-letter-exchange'] === undefined) {
      hint ??=
        "deadLetterTo.exchange is '' for the retry queues (the default exchange): a test like `if (spec.deadLetterTo?.exchange)` is false for it.";
    }
  }
  return { wrong, hint };
}

/** The copy in inventory.queue: reject it, and it should come back after the retry queue's TTL. */
async function expectRejectedComesBack(inventory: Awaited<ReturnType<typeof inbox>>, settings: TopologySettings): Promise<void> {
  const first = await inventory.next('order.created in inventory.queue', () => 'inventory.queue stayed empty');
  const rejected = Date.now();
  inventory.channel.nack(first, false, false);
  const back = await inventory.next(
    `the rejected message back in ${QUEUES.inventory} after the ${settings.retryDelayMs} ms retry delay`,
    () => 'it did not come back',
  );
  const waited = Date.now() - rejected;
  expectThat(
    waited >= settings.retryDelayMs - 20,
    `the rejected message to wait ${settings.retryDelayMs} ms in ${retryQueueName(QUEUES.inventory)}`,
    `it was back after ${waited} ms (${deathsOf(back)})`,
  );
  inventory.channel.ack(back);
}

/** The email and SMS copies: nobody reads them, so they expire after the TTL into dead-letter.queue. */
async function expectNotificationsExpire(parked: ConsumeMessage[], messageId: string, published: number): Promise<void> {
  const copiesOf = () => parked.filter((m) => m.properties.messageId === messageId);
  const expired = await waitFor(
    () => {
      const copies = copiesOf();
      return copies.length >= 2 ? copies : undefined;
    },
    `both notification copies of the event in dead-letter.queue after the ${SHORT_TTL_MS} ms TTL`,
    () => `${copiesOf().length} arrived`,
    SHORT_TTL_MS + 2500,
  );
  const after = Date.now() - published;
  expectThat(
    after >= SHORT_TTL_MS - 50,
    `the notifications to expire after ${SHORT_TTL_MS} ms`,
    `they were in dead-letter.queue after ${after} ms`,
  );
  const reasons = expired
    .map((m) => m.properties.headers?.['x-death']?.[0])
    .map((d) => `${d?.queue}: ${d?.reason}`)
    .sort();
  const wanted = [`${QUEUES.notificationEmail}: expired`, `${QUEUES.notificationSms}: expired`];
  expectThat(JSON.stringify(reasons) === JSON.stringify(wanted), `x-death saying ${wanted.join(' and ')}`, reasons.join(' and '));
}

/**
 * Publishes an express order's order.created to order.exchange, persistent, with the routing headers
 * the services add (so it reaches the SMS queue too); returns it and when it was published.
 */
async function publishOrderCreated(channel: ConfirmChannel) {
  const event = { ...sampleOrderCreated(), express: true };
  const { content, options } = codec.encode(event);
  const published = Date.now();
  channel.publish(EXCHANGES.order, event.type, content, {
    ...options,
    headers: { ...options.headers, ...routingHeadersFor(event) },
    persistent: true,
  });
  await channel.waitForConfirms();
  return { event, published };
}

export const queueArguments: Check<'deadLetters'> = {
  id: '06.queue-arguments',
  name: 'queueArguments: a rejected message comes back from its retry queue, and an unread notification expires into dead-letter.queue',
  hint: "Each queue's spec says it all: its failure policy, deadLetterTo and messageTtlMs (shared/topology/types.ts). See README § Dead-lettering and § TTL.",
  timeoutMs: 7000,
  async run(context) {
    const { layers, connect, settings } = context;
    const topology = buildTopology({ ...settings, notificationTtlMs: SHORT_TTL_MS });
    const connection = await connect();
    const channel = await connection.createConfirmChannel();
    const queues = [
      ...retryLoop(QUEUES.inventory),
      QUEUES.notificationEmail,
      QUEUES.notificationSms,
      QUEUES.deliveryDelay,
      QUEUES.unroutable,
    ];
    await declare(channel, topology, layers, queues);
    const { wrong, hint } = await wrongArguments(context, topology, queues);
    expectThat(
      wrong.length === 0,
      'every queue declared with the dead-letter arguments and TTL its spec says, and no others',
      wrong.join(' | '),
      hint,
    );

    const parked = await watchDeadLetterQueue(connection);
    const inventory = await inbox(connection, QUEUES.inventory);
    const { event, published } = await publishOrderCreated(channel);
    await expectRejectedComesBack(inventory, settings);
    await expectNotificationsExpire(parked, event.messageId, published);
  },
};

export const attemptsSoFar: Check<'deadLetters'> = {
  id: '06.attempts-so-far',
  name: "attemptsSoFar counts only this queue's rejections in the x-death header",
  hint: 'x-death has one entry per (queue, reason), each with a count. Which of them are tries of this queue? See README § x-death.',
  async run({ layer, reference, connect, settings }) {
    const connection = await connect();
    const channel = await connection.createConfirmChannel();
    const topology = buildTopology({ ...settings, retryDelayMs: FAST_RETRY_MS });
    await declare(channel, topology, reference, [...retryLoop(QUEUES.order), ...retryLoop(QUEUES.inventory)]);
    const order = await inbox(connection, QUEUES.order);
    const inventory = await inbox(connection, QUEUES.inventory);
    const seenX = (m: ConsumeMessage) => `x-death: ${deathsOf(m)}`;
    const doubleCounted = "The retry queue's own entries (reason 'expired') are the same tries seen a second time.";

    // First a rejection from another queue: it must not count for inventory.queue.
    await sendTo(channel, QUEUES.order, paymentFailed('order-x-death'));
    const fresh = await order.next('the message in order.queue', () => 'order.queue stayed empty');
    const fromFresh = layer.attemptsSoFar(fresh, queueSpec(topology, QUEUES.order));
    expectThat(fromFresh === 0, 'attemptsSoFar(a message never rejected, "order.queue") = 0', `${fromFresh}, ${seenX(fresh)}`);
    order.channel.nack(fresh, false, false);
    const retried = await order.next('the message back in order.queue', () => 'it did not come back');
    const fromOrder = layer.attemptsSoFar(retried, queueSpec(topology, QUEUES.order));
    expectThat(
      fromOrder === 1,
      'attemptsSoFar(message, "order.queue") = 1 after one rejection there',
      `${fromOrder}, ${seenX(retried)}`,
      fromOrder === 2 ? doubleCounted : undefined,
    );
    // Replayed into inventory.queue with its headers, as someone fixing a parked message would.
    channel.sendToQueue(QUEUES.inventory, retried.content, { ...retried.properties, headers: retried.properties.headers });
    order.channel.ack(retried);
    await channel.waitForConfirms();

    for (let rejections = 0; rejections < 3; rejections++) {
      const message = await inventory.next('the message back in inventory.queue', () => 'it did not come back');
      const counted = layer.attemptsSoFar(message, queueSpec(topology, QUEUES.inventory));
      expectThat(
        counted === rejections,
        `attemptsSoFar(message, "inventory.queue") = ${rejections} after ${rejections} rejection(s) from inventory.queue`,
        `${counted}, ${seenX(message)}`,
        counted === 2 * rejections && rejections > 0 ? doubleCounted : undefined,
      );
      inventory.channel.nack(message, false, false);
    }
  },
};
