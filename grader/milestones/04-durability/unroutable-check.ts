// 04.unroutable: a message no queue is bound to receive comes back as a return, which belongs to its
// own publish only, whatever else is in flight and in whatever order the broker's answers arrive.
import type amqp from 'amqplib';
import type { OutgoingMessage } from '../../../shared/layers/01-publish-consume.ts';
import { CannotJudgeError, type Check, expectThat } from '../../check.ts';
import { ignoreErrorsTheCheckReports, waitFor } from '../../checks/support.ts';
import { connectTo } from './broker-state.ts';
import { type Context, paymentSucceeded, publishOrFail, withoutId, wrongOnes } from './publishing.ts';
import { allSettled, describeOutcome, grownListeners, isRejection, listenersOf, type Outcome, watchPublish } from './support.ts';
import { relayToBroker } from './tcp-relay.ts';

interface Publish {
  exchange: string;
  key: string;
  message: OutgoingMessage;
  routable: boolean;
}

/** In flight together: the unroutable ones first, then many a queue receives, some without a messageId. */
function mixedBatch(queue: string, lost: OutgoingMessage): Publish[] {
  return [
    { exchange: 'check.nowhere', key: 'payment.success', message: lost, routable: false },
    ...Array.from({ length: 40 }, (_, i) => ({ exchange: '', key: queue, message: paymentSucceeded(`routable-${i}`), routable: true })),
    { exchange: '', key: 'check.no-such-queue', message: withoutId(paymentSucceeded('unroutable-2')), routable: false },
    ...Array.from({ length: 5 }, (_, i) => ({
      exchange: '',
      key: queue,
      message: withoutId(paymentSucceeded(`no-id-${i}`)),
      routable: true,
    })),
  ];
}

/** Each unroutable publish of the batch rejected with PublishRejectedError that says why; each routable one resolved. */
function expectOwnOutcomes(batch: Publish[], outcomes: Outcome[]): void {
  const returned = batch.map((b, i) => ({ ...b, outcome: outcomes[i] as Outcome })).filter((b) => !b.routable);
  const where = (i: number) => `${returned[i]?.exchange || 'the default exchange'} / ${returned[i]?.key}`;
  const calledSent = () =>
    returned.some(({ outcome }) => outcome.state === 'resolved') ? ': the broker dropped the message and your code called it sent' : '';
  expectThat(
    returned.every(({ outcome }) => isRejection(outcome)),
    'each publish nobody is bound to receive (no alternate exchange either) to reject with PublishRejectedError',
    () =>
      wrongOnes(
        returned.map(({ outcome }) => outcome),
        isRejection,
        where,
      ) + calledSent(),
  );
  const unnamed = returned.filter(
    ({ outcome, key }) => isRejection(outcome) && !(outcome.error.reason.includes(key) || /no_route/i.test(outcome.error.reason)),
  );
  const reasons = () =>
    unnamed.map(({ outcome }) => (isRejection(outcome) ? `reason ${JSON.stringify(outcome.error.reason)}` : '')).join('; ');
  expectThat(
    unnamed.length === 0,
    "each rejection's reason to say what could not be routed (the routing key, or the broker's NO_ROUTE)",
    reasons,
  );
  const routability = (i: number) => (batch[i]?.routable ? 'routable' : 'unroutable');
  const withId = (i: number) => (batch[i]?.message.options.messageId ? 'with' : 'without');
  const label = (i: number) => `${routability(i)} publish #${i + 1} (${withId(i)} a messageId)`;
  expectThat(
    outcomes.every((outcome, i) => (batch[i]?.routable ? outcome.state === 'resolved' : true)),
    'every routable publish in flight with them to resolve: a return belongs to one publish only',
    () => wrongOnes(outcomes, (o, i) => !batch[i]?.routable || o.state === 'resolved', label),
    'Which publish does a returned message belong to? The same channel has many in flight.',
  );
}

/**
 * The end of 04.unroutable. The broker sends a publish's return before its confirm, but it may send it
 * before the confirms of earlier publishes too (it confirms in batches; the return goes out as soon as
 * the message is found unroutable). A relay holds the broker's answers to five publishes in flight,
 * routable and unroutable in turn, and hands them over in that order: both returns, then the five
 * confirms. Each publish must still get its own outcome.
 */
async function returnsBeforeEarlierConfirms(context: Context, queue: string): Promise<void> {
  const relay = await relayToBroker(context);
  const channel = await (await connectTo(context, relay.url)).createConfirmChannel();
  context.onCleanup(() => relay.release()); // runs before the connection closes: its close-ok must get through
  ignoreErrorsTheCheckReports(channel);
  const batch = [
    { exchange: '', key: queue, routable: true },
    { exchange: 'check.nowhere', key: 'refund.issued', routable: false },
    { exchange: '', key: queue, routable: true },
    { exchange: '', key: 'check.no-such-queue', routable: false },
    { exchange: '', key: queue, routable: true },
  ];
  relay.hold();
  const publishing = batch.map(({ exchange, key }, i) =>
    watchPublish(() => context.layer.publishConfirmed(channel, exchange, key, paymentSucceeded(`interleaved-${i + 1}`))),
  );
  const allAnswered = () => relay.publishesSinceHold() >= batch.length && relay.confirmsHeld() >= batch.length;
  await waitFor(
    () => (allAnswered() ? true : undefined),
    'the broker to answer the publishes',
    () => '',
    2000,
  ).catch(() => {
    // A layer that sends one publish at a time, each after the confirm of the one before, has nothing to interleave: judged as it is.
    if (relay.publishesSinceHold() < batch.length) return;
    throw new CannotJudgeError(
      `the broker confirmed ${relay.confirmsHeld()} of ${batch.length} publishes within 2 s; grade again once the machine is less busy`,
    );
  });
  relay.releaseReturnsFirst();
  const outcomes = await allSettled(publishing);
  const label = (i: number) => `${batch[i]?.routable ? 'routable' : 'unroutable'} publish #${i + 1}`;
  const ownOutcome = (o: Outcome, i: number) => (batch[i]?.routable ? o.state === 'resolved' : isRejection(o));
  expectThat(
    outcomes.every(ownOutcome),
    'each publish its own outcome when the returns of the unroutable ones (#2, #4) come before the confirm of the first: the routable ones resolve, the unroutable ones reject with PublishRejectedError',
    () => wrongOnes(outcomes, ownOutcome, label),
    'A return is not about the next confirm to arrive: it carries the message it returns, and so says which publish it belongs to.',
  );
}

/** The outbox publishes a rejected row again, with the same messageId: now a queue receives it. */
async function expectRepublishResolves(
  context: Context,
  channel: amqp.ConfirmChannel,
  queue: string,
  lost: OutgoingMessage,
): Promise<void> {
  await channel.bindQueue(queue, 'check.nowhere', 'payment.success');
  const again = await watchPublish(() => context.layer.publishConfirmed(channel, 'check.nowhere', 'payment.success', lost)).settled();
  expectThat(
    again.state === 'resolved',
    `the rejected message, published again with the same messageId once check.somewhere is bound to receive it, to resolve`,
    () => `${describeOutcome(again)}: its earlier return still counted against it`,
    'What your code remembers about a returned message belongs to that one publish: forget it once it is settled.',
  );
}

export const unroutable: Check<'durability'> = {
  id: '04.unroutable',
  name: 'publishConfirmed rejects a message no queue is bound to receive (PublishRejectedError), and only that one',
  hint: "A message nobody can receive is still acked by the broker; only a mandatory publish is sent back first, as a 'return' that you match to its own publish (README § mandatory and basic.return).",
  async run(context) {
    const channel = ignoreErrorsTheCheckReports(await (await context.connect()).createConfirmChannel());
    await channel.assertExchange('check.nowhere', 'direct', { durable: true });
    const { queue } = await channel.assertQueue('check.somewhere', { durable: true });
    await publishOrFail(context, channel, '', queue, paymentSucceeded('warm-up'), 'the default exchange routes it to check.somewhere');
    const listenersBefore = listenersOf(channel);

    const lost = paymentSucceeded('unroutable-1');
    const batch = mixedBatch(queue, lost);
    const outcomes = await allSettled(
      batch.map(({ exchange, key, message }) => watchPublish(() => context.layer.publishConfirmed(channel, exchange, key, message))),
    );
    expectOwnOutcomes(batch, outcomes);
    const grown = grownListeners(listenersBefore, listenersOf(channel));
    expectThat(
      grown.length === 0,
      `the channel's listeners to be as many after ${batch.length} more publishes as after the first`,
      () => `${grown.join(', ')}: a listener per publish, never removed`,
      'Listen on the channel once, not once per publish (or remove what a publish added when it settles).',
    );

    await expectRepublishResolves(context, channel, queue, lost);
    await returnsBeforeEarlierConfirms(context, queue);
  },
};
