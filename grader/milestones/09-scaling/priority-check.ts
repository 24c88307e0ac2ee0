// 09.priority: express events overtake a backlog of standard ones in the service queues of the real
// topology, published as the runtime publishes them; only the queues whose spec asks for
// priorities get them.
import type { ChannelModel } from 'amqplib';
import { type DomainEvent, newEvent } from '../../../shared/messages/events.ts';
import type { QueueSpec } from '../../../shared/topology/types.ts';
import { EXCHANGES, QUEUES, queueSpec } from '../../../shared/topology/topology.ts';
import { declareTopology } from '../../../solutions/runtime/declare-topology.ts';
import { type Check, type CheckContext, CheckFailure, expectThat } from '../../check.ts';
import { ignoreErrorsTheCheckReports, waitFor } from '../../checks/support.ts';

type Context = CheckContext<'scaling'>;

const items = [{ sku: 'tea', quantity: 1 }];
/** An event of each type the express path crosses, standard or express. */
const EXPRESS_PATH: { queue: string; event: (orderId: string, express: boolean) => DomainEvent }[] = [
  {
    queue: QUEUES.inventory,
    event: (orderId, express) => newEvent('order.created', { orderId, source: 'order', express, payload: { user: 'ada', items } }),
  },
  {
    queue: QUEUES.payment,
    event: (orderId, express) => newEvent('inventory.reserved', { orderId, source: 'inventory', express, payload: { items, amount: 450 } }),
  },
  {
    queue: QUEUES.shipping,
    event: (orderId, express) =>
      newEvent('payment.success', { orderId, source: 'payment', express, payload: { paymentId: `pay-${orderId}`, amount: 450 } }),
  },
];

const EXPRESS = ' (express)';

/** The hint when a queue's x-max-priority is not its spec's maxPriority (`given`). */
function maxPriorityHint(spec: QueueSpec, given: unknown): string {
  if (spec.maxPriority === undefined)
    return 'A spec without maxPriority means no priority queue (with QUEUE_TYPE=quorum none has one, and a quorum queue refuses x-max-priority).';
  if (given === undefined)
    return `${spec.name}'s spec has a maxPriority: without x-max-priority the broker ignores the priorities of its messages.`;
  return 'Each priority level costs the broker memory and CPU: declare as many as the spec says.';
}

/**
 * Priority queues exactly where the topology asks for them, with as many levels as it says (each
 * level costs the broker; a quorum queue on 3.10 refuses x-max-priority altogether).
 */
function expectMaxPriorities(context: Context): void {
  const { layer, topology } = context;
  for (const spec of topology.queues) {
    const given = layer.queueArguments(spec)['x-max-priority'];
    const expected =
      spec.maxPriority === undefined
        ? `no x-max-priority for ${spec.name} (its spec has no maxPriority)`
        : `x-max-priority ${spec.maxPriority} for ${spec.name} (its spec's maxPriority)`;
    expectThat(
      given === spec.maxPriority,
      expected,
      `queueArguments gave ${JSON.stringify(layer.queueArguments(spec))}`,
      maxPriorityHint(spec, given),
    );
  }
}

/**
 * As the runtime publishes: layer 1 encodes, layer 2 routes, your priorityFor sets the priority. Six
 * standard events then one express one of each type; returns the express ones' priority by type.
 */
async function publishBacklogs(context: Context, connection: ChannelModel): Promise<Map<string, number | undefined>> {
  const { layer, reference } = context;
  const publisher = await connection.createConfirmChannel();
  const published = new Map<string, number | undefined>();
  for (const { event } of EXPRESS_PATH) {
    const backlog = [...Array.from({ length: 6 }, (_, i) => event(`standard-${i}`, false)), event('express', true)];
    for (const e of backlog) {
      const { content, options } = reference.codec.encode(e);
      const priority = layer.priorityFor(e);
      if (priority !== undefined) options.priority = priority;
      if (e.express) published.set(e.type, priority);
      publisher.publish(EXCHANGES.order, reference.routing.routingKeyFor(e), content, options);
    }
  }
  await publisher.waitForConfirms(); // the whole backlog is queued before anyone consumes
  return published;
}

/** Every event in `queue`, in delivery order, one at a time: "type" or "type (express)". */
async function deliveryOrder(connection: ChannelModel, queue: string): Promise<string[]> {
  const seen: string[] = [];
  const consumer = await connection.createChannel();
  await consumer.prefetch(1);
  const { messageCount } = await consumer.checkQueue(queue);
  await consumer.consume(queue, (message) => {
    if (!message) return;
    const event = JSON.parse(message.content.toString()) as DomainEvent;
    seen.push(`${event.type}${event.express ? EXPRESS : ''}`);
    consumer.ack(message);
  });
  await waitFor(
    () => (seen.length === messageCount ? true : undefined),
    `all ${messageCount} events in ${queue} delivered`,
    () => `${seen.length} delivered`,
  );
  await consumer.close();
  return seen;
}

export const priority: Check<'scaling'> = {
  id: '09.priority',
  name: 'express events of every type overtake a backlog of standard ones in the service queues, and a queue without priorities gets none',
  hint: 'Two halves: every queue whose spec has a maxPriority is declared with x-max-priority set to it (and no other queue), and every express event, whatever its type, is published with a higher priority than a standard one.',
  async run(context) {
    const { layer, topology } = context;
    expectMaxPriorities(context);
    const connection = await context.connect();
    const setup = ignoreErrorsTheCheckReports(await connection.createChannel());
    try {
      await declareTopology(setup, topology, context.layers, 'classic');
    } catch (error) {
      throw new CheckFailure(
        'the topology to declare with your queueArguments',
        `it failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const standard = layer.priorityFor(EXPRESS_PATH[0]!.event('standard', false));
    const args = (queue: string) => JSON.stringify(layer.queueArguments(queueSpec(topology, queue)));
    const published = await publishBacklogs(context, connection);

    for (const { queue } of EXPRESS_PATH) {
      const seen = await deliveryOrder(connection, queue);
      const isExpress = (s: string) => s.endsWith('(express)');
      const expressCount = seen.filter(isExpress).length;
      const firstStandard = seen.findIndex((s) => !isExpress(s));
      const lateExpress = seen.findIndex((s, i) => isExpress(s) && i > firstStandard);
      const types = [...new Set(seen.filter(isExpress).map((s) => s.replace(EXPRESS, '')))];
      const priorities = () => types.map((t) => String(published.get(t))).join(', ');
      const sameAsStandard = types.some((t) => published.get(t) === undefined || published.get(t) === standard);
      const noMaxPriority = `${queue}'s spec has a maxPriority, but your queueArguments gave it no x-max-priority: without it the broker ignores priorities.`;
      const expressNotHigher = sameAsStandard
        ? 'Every express event needs the higher priority, whatever its type: the express flag is on the event itself.'
        : undefined;
      expectThat(
        lateExpress === -1,
        `in ${queue}, the ${expressCount} express event(s), published after the backlog, delivered before every standard one`,
        () =>
          `an express ${seen[lateExpress]?.replace(EXPRESS, '')} came ${lateExpress + 1}th of ${seen.length}; ${queue} was declared with ${args(queue)}, and express ${types.join(', ')} published with priority ${priorities()} (standard: ${String(standard)})`,
        args(queue) === '{}' ? noMaxPriority : expressNotHigher,
      );
    }
  },
};
