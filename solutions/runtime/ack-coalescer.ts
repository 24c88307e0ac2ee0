// Acks of one commit group, sent as one frame. Layer 5 acks each delivery on its own once its
// handler resolves; group commit (commit-group.ts) resolves the handlers of one turn's deliveries
// together, so their acks come together too. The channel the runtime hands to layer 5 holds those
// acks until the end of the tick and sends one `basic.ack` with `multiple` up to the highest
// delivery tag below which every delivery of the channel is settled. An ack above a delivery still
// unsettled goes on its own: a multiple ack there would settle the unfinished one too (the
// known-wrong variant). A nack, a reject or a close sends the held acks first, so the broker sees
// every settlement in the order it was made. Layer 5's contract is unchanged: this is the channel.
import { type ConfirmChannel, type ConsumeMessage, IllegalOperationError, type Message, type Options, type Replies } from 'amqplib';

export function coalesceAcks(channel: ConfirmChannel): ConfirmChannel {
  /** Delivered and not settled yet, in delivery order (tags only grow on a channel). */
  const unsettled = new Set<number>();
  let held: number[] = [];
  let scheduled = false;

  const send = () => {
    scheduled = false;
    if (held.length === 0) return;
    const acks = held;
    held = [];
    for (const tag of acks) unsettled.delete(tag);
    // The lowest delivery still unsettled bounds what one multiple ack may cover.
    const lowest = unsettled.values().next();
    const bound = lowest.done ? Infinity : lowest.value;
    let upTo = -1;
    const alone: number[] = [];
    for (const tag of acks) {
      if (tag < bound) upTo = Math.max(upTo, tag);
      else alone.push(tag);
    }
    try {
      if (upTo >= 0) channel.ack(tagged(upTo), acks.length - alone.length > 1);
      for (const tag of alone) channel.ack(tagged(tag));
    } catch (error) {
      // The channel closed meanwhile: the broker requeues whatever it did not see acked.
      if (!(error instanceof IllegalOperationError)) throw error;
    }
  };

  const settleAllUpTo = (tag: number) => {
    for (const pending of unsettled) {
      if (pending > tag) break;
      unsettled.delete(pending);
    }
  };

  const overrides: Partial<ConfirmChannel> = {
    consume(queue: string, onMessage: (message: ConsumeMessage | null) => void, options?: Options.Consume): Promise<Replies.Consume> {
      return channel.consume(
        queue,
        (message) => {
          if (message) unsettled.add(message.fields.deliveryTag);
          onMessage(message);
        },
        options,
      );
    },
    ack(message: Message, allUpTo?: boolean) {
      if (allUpTo) {
        send();
        channel.ack(message, true);
        settleAllUpTo(message.fields.deliveryTag);
        return;
      }
      if (!unsettled.has(message.fields.deliveryTag)) {
        // Not a delivery we saw (or already settled): let amqplib and the broker say what they say.
        send();
        channel.ack(message);
        return;
      }
      held.push(message.fields.deliveryTag);
      if (!scheduled) {
        scheduled = true;
        // After the microtasks of this turn: every ack of one commit group is in by then.
        process.nextTick(send);
      }
    },
    nack(message: Message, allUpTo?: boolean, requeue?: boolean) {
      send();
      channel.nack(message, allUpTo, requeue);
      if (allUpTo) settleAllUpTo(message.fields.deliveryTag);
      else unsettled.delete(message.fields.deliveryTag);
    },
    reject(message: Message, requeue?: boolean) {
      send();
      channel.reject(message, requeue);
      unsettled.delete(message.fields.deliveryTag);
    },
    ackAll() {
      send();
      channel.ackAll();
      unsettled.clear();
    },
    nackAll(requeue?: boolean) {
      send();
      channel.nackAll(requeue);
      unsettled.clear();
    },
    close() {
      send();
      return channel.close();
    },
  };

  return new Proxy(channel, {
    get(target, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof ConfirmChannel];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** channel.ack needs only the delivery tag of the message. */
function tagged(deliveryTag: number): Message {
  return { fields: { deliveryTag } } as Message;
}
