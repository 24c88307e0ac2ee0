// Milestone 2's check of the exchanges declareRoutes declares: the topic, direct and headers ones with
// their type and options, and none of milestone 3's (fanout exchanges, exchange-to-exchange bindings).
import { EXCHANGES } from '../../../shared/topology/topology.ts';
import { type Check, type CheckContext, expectThat } from '../../check.ts';
import { autoDeleted, exchangeInfos, requireExchange } from './exchange-info.ts';
import { declareRouting, ROUTED, TOPOLOGY } from './routing-support.ts';

export const exchanges: Check<'routing'> = {
  id: '02.exchanges',
  name: 'order.exchange is topic with its alternate exchange, retry.exchange direct, notification.sms.exchange headers; nothing of milestone 3',
  hint: 'Each topic, direct and headers exchange of topology.exchanges, with its own type and the options exchangeOptions(spec) gives (they carry durability and the alternate exchange), and no fanout exchange.',
  async run(context) {
    await declareRouting(context, { durableExchanges: true });
    const order = await requireExchange(context, EXCHANGES.order, 'topic');
    expectThat(order.type === 'topic', `${EXCHANGES.order} to be a topic exchange`, `a ${order.type} exchange`);
    expectThat(order.durable, `${EXCHANGES.order} to be durable (from exchangeOptions(spec))`, 'a transient exchange');
    expectThat(!order.auto_delete, `${EXCHANGES.order} not auto-delete (from exchangeOptions(spec))`, autoDeleted);
    const alternate = order.arguments['alternate-exchange'];
    expectThat(
      alternate === EXCHANGES.unroutable,
      `${EXCHANGES.order} to have the alternate-exchange argument ${EXCHANGES.unroutable} (pass exchangeOptions(spec))`,
      alternate === undefined
        ? 'no alternate exchange: unroutable events would be dropped'
        : `alternate-exchange ${JSON.stringify(alternate)}`,
    );
    for (const spec of TOPOLOGY.exchanges.filter((s) => ROUTED.has(s.name) && s.name !== EXCHANGES.order)) {
      const info = await requireExchange(context, spec.name, spec.type);
      expectThat(info.type === spec.type, `${spec.name} to be a ${spec.type} exchange`, `a ${info.type} exchange`);
      expectThat(info.durable, `${spec.name} to be durable (from exchangeOptions(spec))`, 'a transient exchange');
      expectThat(!info.auto_delete, `${spec.name} not auto-delete (from exchangeOptions(spec))`, autoDeleted);
    }
    await expectNothingOfMilestone3(context);
  },
};

/** No fanout exchange and no exchange-to-exchange binding: each exchange and binding is declared by exactly one layer. */
async function expectNothingOfMilestone3(context: CheckContext): Promise<void> {
  const vhost = encodeURIComponent(context.vhost.name);
  const exchanges = await exchangeInfos(context);
  const fanouts = TOPOLOGY.exchanges.filter((spec) => spec.type === 'fanout').map((spec) => spec.name);
  const declared = fanouts.filter((name) => exchanges.has(name)).map((name) => `${name} (${exchanges.get(name)?.type})`);
  const hint = "Fanout exchanges, the bindings from them and exchange-to-exchange bindings are milestone 3's.";
  expectThat(declared.length === 0, 'no fanout exchanges after declareRoutes alone', () => `it declared ${declared.join(', ')}`, hint);
  const bindings = await context.vhost.api.request<
    Array<{ source: string; destination: string; destination_type: string; routing_key: string }>
  >('GET', `/bindings/${vhost}`);
  const toExchanges = bindings
    .filter((binding) => binding.destination_type === 'exchange')
    .map((b) => `${b.source} → ${b.destination} (${b.routing_key})`);
  expectThat(
    toExchanges.length === 0,
    'no exchange-to-exchange bindings after declareRoutes alone',
    () => `it bound ${toExchanges.join(', ')}`,
    hint,
  );
}
