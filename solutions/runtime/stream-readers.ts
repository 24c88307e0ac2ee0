// Reads the streams of the topology a service consumes (AUDIT_STREAM=on: the audit service reads
// audit.stream) with layer 10. A stream forgets nobody's place, so the reader keeps its own: the
// offset after the last message it handled, stored in the service's database in the same transaction
// as what the handler did. After a restart it reads on from there: nothing skipped, nothing twice.
// A stream has no requeue and no dead-lettering: a message that cannot be decoded or recorded is
// logged and passed over (its offset stored all the same), which is why audit.queue stays the default.
import type { Channel } from 'amqplib';
import { MalformedMessageError, type Layers, type StreamReader } from '../../shared/layers/index.ts';
import type { DomainEvent } from '../../shared/messages/events.ts';
import type { Logger } from '../../shared/log.ts';
import type { TopologyStream } from '../../shared/topology/types.ts';
import type { ServiceDatabase } from './database.ts';

/** Records one event read from a stream; runs inside the transaction that stores the offset. */
export type StreamEventHandler = (event: DomainEvent, context: { db: ServiceDatabase; log: Logger }) => void;

export function migrateStreamOffsets(db: ServiceDatabase): void {
  db.exec('CREATE TABLE IF NOT EXISTS stream_offsets (stream TEXT PRIMARY KEY, next_offset INTEGER NOT NULL)');
}

/** The offset to read `stream` from: the one after the last handled, or undefined when none was. */
export function storedOffset(db: ServiceDatabase, stream: string): number | undefined {
  return db.prepare<[string], { next_offset: number }>('SELECT next_offset FROM stream_offsets WHERE stream = ?').get(stream)?.next_offset;
}

/**
 * Whether a broker of this version delivers dead-lettered messages to a stream. RabbitMQ 3.10.8 does
 * not: an expired message of a classic queue reached a classic queue bound to the dead-letter exchange
 * and not a stream bound beside it, where 4.3.6 delivered it to both (measured here). The order
 * system's delivery.confirmed comes out of the delivery-delay queue that way, so on 3.x an audit
 * trail kept on a stream lacks it.
 */
export function streamsGetDeadLetters(brokerVersion: string | undefined): boolean {
  return Number(brokerVersion?.split('.')[0] ?? 0) >= 4;
}

export interface StreamReaderSetup {
  stream: TopologyStream;
  handler: StreamEventHandler;
  channel: Channel;
  layers: Pick<Layers, 'codec' | 'streams'>;
  db: ServiceDatabase;
  log: Logger;
  prefetch: number;
  /** The broker's version (from its connection's server properties), for the warning above. */
  brokerVersion: string | undefined;
}

/** Starts reading `stream` where this service left off ('first' the first time). */
export async function startStreamReader({
  stream,
  handler,
  channel,
  layers,
  db,
  log,
  prefetch,
  brokerVersion,
}: StreamReaderSetup): Promise<StreamReader> {
  const store = db.prepare(
    'INSERT INTO stream_offsets (stream, next_offset) VALUES (?, ?) ON CONFLICT(stream) DO UPDATE SET next_offset = excluded.next_offset',
  );
  const from = storedOffset(db, stream.name) ?? 'first';
  if (!streamsGetDeadLetters(brokerVersion))
    log.warn(
      `RabbitMQ ${brokerVersion ?? '(unknown version)'} does not deliver dead-lettered messages to ${stream.name}: delivery.confirmed will be missing from its trails (RabbitMQ 4 delivers them)`,
    );
  log.info(`reading ${stream.name} from ${typeof from === 'number' ? `offset ${from}` : from}`);
  return layers.streams.read(
    channel,
    stream.name,
    (message, offset) => {
      let event: DomainEvent | undefined;
      try {
        event = layers.codec.decode(message);
      } catch (error) {
        if (!(error instanceof MalformedMessageError)) throw error;
        log.warn(`skipped offset ${offset} of ${stream.name}: ${error.reason}`);
      }
      db.transaction(() => {
        if (event) handler(event, { db, log });
        store.run(stream.name, offset + 1);
      })();
    },
    {
      from,
      prefetch,
      onError: (error, message) =>
        log.error(`could not handle offset ${String(message.properties.headers?.['x-stream-offset'])} of ${stream.name}`, error),
    },
  );
}
