// What milestone 7's checks read requests and replies with.
import type { Channel, ConsumeMessage } from 'amqplib';
import { waitFor } from '../../checks/support.ts';

export const JSON_TYPE = 'application/json';

/** Reads one message from a queue, polling. */
export function replyIn(channel: Channel, queue: string, expected: string, seen: () => string): Promise<ConsumeMessage> {
  return waitFor(
    async () => ((await channel.get(queue, { noAck: true })) || undefined) as ConsumeMessage | undefined,
    expected,
    seen,
    2000,
  );
}

export function parsed(message: { content: Buffer }): unknown {
  try {
    return JSON.parse(message.content.toString('utf8'));
  } catch {
    return undefined;
  }
}
