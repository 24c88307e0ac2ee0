// Milestone 2's check of the headers exchange: messages published into notification.sms.exchange
// with different headers, and which of them reach notification.sms.queue. The routing key is the
// same for all of them: only the headers, their values and their types decide.
import { EXCHANGES, QUEUES, SMS_BINDING_ARGUMENTS, SMS_HEADERS } from '../../../shared/topology/topology.ts';
import { type Check, expectThat } from '../../check.ts';
import { describeArguments } from '../../checks/bindings-support.ts';
import { publishAll, whereDidTheyGo } from '../../checks/topology-support.ts';
import { requireExchange } from './exchange-info.ts';
import { bindingCause, declareRouting, expectReached, TOPOLOGY } from './routing-support.ts';

const { express, textWorthy } = SMS_HEADERS;

/** Each probe's headers, and whether the SMS queue must get it. */
const PROBES: Array<{ id: string; headers: Record<string, unknown>; texted: boolean }> = [
  { id: 'an express order shipped', headers: { [express]: true, [textWorthy]: true }, texted: true },
  { id: 'an express order paid (not worth a text)', headers: { [express]: true, [textWorthy]: false }, texted: false },
  { id: 'a standard order shipped', headers: { [express]: false, [textWorthy]: true }, texted: false },
  { id: 'headers that are the string "true"', headers: { [express]: 'true', [textWorthy]: 'true' }, texted: false },
  { id: 'no headers at all', headers: {}, texted: false },
];

export const headersRoute: Check<'routing'> = {
  id: '02.headers-route',
  name: 'notification.sms.exchange (headers) passes a message to the SMS queue only when all its headers match, as booleans',
  hint: "A headers exchange ignores the key: the binding's arguments from the data are its rule, x-match included, and each value with its type.",
  async run(context) {
    const channel = await declareRouting(context);
    await requireExchange(context, EXCHANGES.notificationSms, 'headers');
    await publishAll(
      channel,
      PROBES.map(({ id, headers }) => ({ exchange: EXCHANGES.notificationSms, routingKey: 'order.shipped', id, headers })),
    );
    const reached = await whereDidTheyGo(channel, TOPOLOGY);
    const cause = await bindingCause(context, TOPOLOGY, EXCHANGES.notificationSms);
    for (const { id, headers, texted } of PROBES) {
      const seen = reached.get(id) ?? [];
      expectReached(
        seen,
        texted ? [QUEUES.notificationSms] : [],
        `${id} (headers ${describeArguments(headers) || '{}'}) to reach ${texted ? QUEUES.notificationSms : 'no queue'}`,
        cause,
      );
    }
    expectThat(
      cause === undefined,
      `the queue binding of ${EXCHANGES.notificationSms} to have exactly the arguments ${describeArguments(SMS_BINDING_ARGUMENTS)}`,
      () => `${cause ?? ''} (a binding with other arguments is another binding: declared next to the system's, it adds one)`,
      undefined,
      cause,
    );
  },
};
