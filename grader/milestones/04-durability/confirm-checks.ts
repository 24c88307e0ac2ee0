// Milestone 4's checks on publishConfirmed's answer: it waits for the broker's confirm, a nack
// rejects that one publish only, and a channel the broker closes rejects with the broker's reason.
import { PublishRejectedError } from '../../../shared/layers/04-durability.ts';
import { describeError } from '../../../shared/log.ts';
import { EXCHANGES } from '../../../shared/topology/topology.ts';
import { type Check, expectThat } from '../../check.ts';
import { ignoreErrorsTheCheckReports, waitFor } from '../../checks/support.ts';
import { connectTo } from './broker-state.ts';
import { paymentSucceeded, wrongOnes } from './publishing.ts';
import { allSettled, describeOutcome, isRejection, type Outcome, watchPublish } from './support.ts';
import { relayToBroker } from './tcp-relay.ts';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

export const confirmed: Check<'durability'> = {
  id: '04.confirmed',
  name: "publishConfirmed waits for the broker's confirm before it resolves",
  hint: "What does it mean that channel.publish() returned true? Only the broker's answer (README § Publishing is not sending) says it has the message.",
  async run(context) {
    const relay = await relayToBroker(context);
    const channel = await (await connectTo(context, relay.url)).createConfirmChannel();
    context.onCleanup(() => relay.release()); // runs before the connection closes: its close-ok must get through
    ignoreErrorsTheCheckReports(channel);
    const { queue } = await channel.assertQueue('check.confirmed', { durable: true });
    const watcher = await (await context.connect()).createChannel();

    relay.hold(); // from now on the broker's answers, its confirms among them, wait in the network
    const publishing = ['confirm-1', 'confirm-2', 'confirm-3'].map((id) =>
      watchPublish(() => context.layer.publishConfirmed(channel, '', queue, paymentSucceeded(id))),
    );
    await nextTurn();
    for (const one of publishing) one.now(); // a layer not written yet fails here
    const states = () => publishing.map((one) => one.now());
    const label = (i: number) => `publish ${i + 1}`;
    await waitFor(
      async () => ((await watcher.checkQueue(queue)).messageCount === 3 ? true : undefined),
      'the three messages to reach check.confirmed',
      () => `${wrongOnes(states(), () => false, label)}, and the queue did not get all three`,
    );
    await nextTurn();
    expectThat(
      states().every((outcome) => outcome.state === 'pending'),
      "all three publishConfirmed calls still waiting while the broker's confirms were held up in the network",
      () => `${wrongOnes(states(), (o) => o.state === 'pending', label)} before any confirm had arrived`,
    );

    relay.release();
    const outcomes = await allSettled(publishing);
    expectThat(
      outcomes.every((o) => o.state === 'resolved'),
      'each publishConfirmed to resolve once its confirm arrived',
      () => wrongOnes(outcomes, (o) => o.state === 'resolved', label),
    );
  },
};

export const nack: Check<'durability'> = {
  id: '04.nack',
  name: 'publishConfirmed rejects a message the broker refuses (a full queue), and only that one',
  hint: "The confirm callback's first argument tells an ack from a nack (README § A queue that says no).",
  async run(context) {
    const channel = ignoreErrorsTheCheckReports(await (await context.connect()).createConfirmChannel());
    const { queue } = await channel.assertQueue('check.bounded', {
      durable: true,
      arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' },
    });
    const { queue: roomy } = await channel.assertQueue('check.roomy', { durable: true });
    // In flight together: the first fills check.bounded, the second and fourth are refused.
    const batch = [
      { to: queue, refused: false },
      { to: queue, refused: true },
      { to: roomy, refused: false },
      { to: queue, refused: true },
      { to: roomy, refused: false },
    ];
    const outcomes = await allSettled(
      batch.map(({ to }, i) => watchPublish(() => context.layer.publishConfirmed(channel, '', to, paymentSucceeded(`full-${i + 1}`)))),
    );
    const label = (i: number) => `publish #${i + 1} to ${batch[i]?.to}${batch[i]?.refused ? ' (refused)' : ''}`;
    const refusedRejects = (o: Outcome, i: number) => !batch[i]?.refused || isRejection(o);
    const acceptedResolves = (o: Outcome, i: number) => !!batch[i]?.refused || o.state === 'resolved';
    const calledSent = () =>
      outcomes.some((o, i) => batch[i]?.refused && o.state === 'resolved')
        ? ': the broker said no and your code called the message sent'
        : '';
    expectThat(
      outcomes.every(refusedRejects),
      'each publish refused by the full queue (x-overflow reject-publish, so the broker nacks it) to reject with PublishRejectedError',
      () => wrongOnes(outcomes, refusedRejects, label) + calledSent(),
    );
    expectThat(
      outcomes.every(acceptedResolves),
      'each publish the broker accepted, in flight with the refused ones, to resolve: a nack belongs to one publish only',
      () => wrongOnes(outcomes, acceptedResolves, label),
      'Each publish has its own answer from the broker: wait for that one, not for every publish in flight on the channel.',
    );
    const counts = [(await channel.checkQueue(queue)).messageCount, (await channel.checkQueue(roomy)).messageCount];
    expectThat(counts[0] === 1 && counts[1] === 2, 'check.bounded to hold 1 message and check.roomy 2', `${counts[0]} and ${counts[1]}`);
  },
};

export const channelClosed: Check<'durability'> = {
  id: '04.channel-closed',
  name: "publishConfirmed rejects with the broker's reason when the broker closes the channel",
  hint: "A channel the broker closes answers no more publishes: amqplib fails what was in flight, and the broker said why in its 'error' event (README § When the broker closes the channel).",
  async run(context) {
    // The check's own listener: a layer without one must not take the grader down.
    const channel = ignoreErrorsTheCheckReports(await (await context.connect()).createConfirmChannel());
    // The broker closes the channel: NOT_FOUND, there is no such exchange.
    const doomed = await watchPublish(() =>
      context.layer.publishConfirmed(channel, 'check.no-such-exchange', 'payment.success', paymentSucceeded('closed-1')),
    ).settled();
    expectThat(
      doomed.state === 'rejected',
      'a publish to an exchange that does not exist (the broker closes the channel) to reject',
      describeOutcome(doomed),
    );
    expectThat(
      !(doomed.error instanceof PublishRejectedError),
      'a rejection other than PublishRejectedError: the broker did not refuse the message, it closed the channel',
      describeOutcome(doomed),
      'A nack and a closed channel both reach the confirm callback as an error; only a nack is the broker refusing the message.',
    );
    expectThat(
      describeError(doomed.error).includes('NOT_FOUND'),
      "the rejection to carry the broker's reason (NOT_FOUND - no exchange 'check.no-such-exchange')",
      describeOutcome(doomed),
      "The broker's reason arrives in the channel's 'error' event, just before its 'close'.",
    );
    // The outbox may still publish on it before it notices: a rejection, not a throw and not a hang.
    const later = watchPublish(() =>
      context.layer.publishConfirmed(channel, EXCHANGES.order, 'payment.success', paymentSucceeded('closed-2')),
    );
    const after = await later.settled(1000);
    expectThat(
      !later.threwSynchronously,
      'a publish on the closed channel to return a rejected promise',
      () => `it threw at the caller: ${describeOutcome(after)}`,
    );
    expectThat(after.state === 'rejected', 'a publish on the closed channel to reject', describeOutcome(after));
  },
};
