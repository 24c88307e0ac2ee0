// What milestone 4's checks publish with the graded layer, and how they say which publishes went wrong.
import type amqp from 'amqplib';
import type { OutgoingMessage } from '../../../shared/layers/01-publish-consume.ts';
import { newEvent } from '../../../shared/messages/events.ts';
import { type CheckContext, expectThat } from '../../check.ts';
import { describeOutcome, type Outcome, watchPublish } from './support.ts';

export type Context = CheckContext<'durability'>;

export const paymentSucceeded = (orderId: string): OutgoingMessage => {
  const event = newEvent('payment.success', { orderId, source: 'payment', payload: { paymentId: `pay-${orderId}`, amount: 4200 } });
  return {
    content: Buffer.from(JSON.stringify(event)),
    options: {
      contentType: 'application/json',
      messageId: event.messageId,
      correlationId: orderId,
      type: event.type,
      appId: 'payment',
      headers: { 'x-schema-version': 1 },
    },
  };
};

export const withoutId = (message: OutgoingMessage): OutgoingMessage => ({
  content: message.content,
  options: { ...message.options, messageId: undefined },
});

/** Publishes with the learner's layer and fails the check, in words, unless it resolves. */
export async function publishOrFail(
  context: Context,
  channel: amqp.ConfirmChannel,
  exchange: string,
  routingKey: string,
  message: OutgoingMessage,
  why: string,
): Promise<void> {
  const outcome = await watchPublish(() => context.layer.publishConfirmed(channel, exchange, routingKey, message)).settled();
  expectThat(
    outcome.state === 'resolved',
    `publishConfirmed to ${exchange || 'the default exchange'} with routing key ${routingKey} to resolve (${why})`,
    describeOutcome(outcome),
  );
}

/** "2 of 5 (#1 it resolved, #3 it was still waiting)": the publishes whose outcome was wrong. */
export function wrongOnes(
  outcomes: Outcome[],
  right: (outcome: Outcome, index: number) => boolean,
  label: (index: number) => string,
): string {
  const wrong = outcomes.map((outcome, index) => ({ outcome, index })).filter(({ outcome, index }) => !right(outcome, index));
  const shown = wrong.slice(0, 3).map(({ outcome, index }) => `${label(index)}: ${describeOutcome(outcome)}`);
  const more = wrong.length > 3 ? '; …' : '';
  return `${wrong.length} of ${outcomes.length} wrong (${shown.join('; ')}${more})`;
}
