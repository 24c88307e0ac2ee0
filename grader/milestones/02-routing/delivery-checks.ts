// Milestone 2's checks of where published messages land: each event type in the queues subscribed to
// it, a failed message in its queue's retry queue, an event nobody wants in unroutable.queue.
import { EVENT_TYPES } from '../../../shared/messages/events.ts';
import { EXCHANGES, QUEUES } from '../../../shared/topology/topology.ts';
import { type Check, expectThat } from '../../check.ts';
import { publishAll, subscribersOf, whereDidTheyGo } from '../../checks/topology-support.ts';
import { requireExchange } from './exchange-info.ts';
import { bindingCause, declareRouting, expectReached, list, TOPOLOGY } from './routing-support.ts';

export const subscriptions: Check<'routing'> = {
  id: '02.subscriptions',
  name: 'each event type reaches exactly the service queues subscribed to it',
  hint: 'Every binding of topology.bindings from a topic or direct exchange to a queue, each with its pattern as it is, and no other: the line above names what differs.',
  async run(context) {
    const channel = await declareRouting(context);
    await requireExchange(context, EXCHANGES.order, 'topic');
    await publishAll(
      channel,
      EVENT_TYPES.map((type) => ({ exchange: EXCHANGES.order, routingKey: type, id: type })),
    );
    const reached = await whereDidTheyGo(channel, TOPOLOGY);
    const cause = await bindingCause(context, TOPOLOGY, EXCHANGES.order);
    for (const type of EVENT_TYPES) {
      const expected = subscribersOf(type);
      const seen = reached.get(type) ?? [];
      expectReached(
        seen,
        expected,
        `${type} to reach ${list(expected)}${expected.length === 0 ? ' (only the audit and notification fanouts of milestone 3 want it)' : ''}`,
        cause,
      );
    }
    expectThat(
      cause === undefined,
      `the queue bindings of ${EXCHANGES.order} to be exactly the topology's`,
      () => cause ?? '',
      undefined,
      cause,
    );
  },
};

export const retryRoute: Check<'routing'> = {
  id: '02.retry-route',
  name: "retry.exchange sends a failed message to its queue's retry queue, by the queue's name",
  hint: 'retry.exchange is direct: a key matches a binding only when it is equal to it, and the key of a failed message is the name of the queue it failed in (README § Exchange types).',
  async run(context) {
    const channel = await declareRouting(context);
    await requireExchange(context, EXCHANGES.retry, 'direct');
    const failedFrom = [QUEUES.inventory, QUEUES.order, QUEUES.audit];
    await publishAll(
      channel,
      failedFrom.map((queue) => ({ exchange: EXCHANGES.retry, routingKey: queue, id: `failed in ${queue}` })),
    );
    const reached = await whereDidTheyGo(channel, TOPOLOGY);
    const cause = await bindingCause(context, TOPOLOGY, EXCHANGES.retry);
    for (const queue of failedFrom) {
      const seen = reached.get(`failed in ${queue}`) ?? [];
      expectReached(
        seen,
        [`${queue}.retry`],
        `a message published to ${EXCHANGES.retry} with key ${queue} to reach ${queue}.retry only`,
        cause,
      );
    }
    expectThat(
      cause === undefined,
      `the queue bindings of ${EXCHANGES.retry} to be exactly the topology's`,
      () => cause ?? '',
      undefined,
      cause,
    );
  },
};

export const unroutable: Check<'routing'> = {
  id: '02.unroutable',
  name: 'an event nobody subscribes to (refund.issued) lands in unroutable.queue',
  hint: "order.exchange's alternate exchange (it comes with exchangeOptions(spec)) catches what no binding matches: unless a binding matches everything.",
  async run(context) {
    const channel = await declareRouting(context, { fanout: true });
    await publishAll(channel, [{ exchange: EXCHANGES.order, routingKey: 'refund.issued', id: 'refund.issued' }]);
    const seen = (await whereDidTheyGo(channel, TOPOLOGY)).get('refund.issued') ?? [];
    expectThat(
      seen.join() === QUEUES.unroutable,
      `refund.issued to reach ${QUEUES.unroutable} only (through the alternate exchange)`,
      seen.length === 0 ? 'it vanished: order.exchange has no alternate exchange' : `it reached ${list(seen)}`,
    );
  },
};
