// Milestone 10 demo: your layer declares a small audit stream, five events are written to it, and
// three readers replay it: one from the first message, one from now on, one from a moment in time.
// Reading takes nothing away: each gets what its offset says, and the stream still holds it all.
import { AUDIT_STREAM } from '../../../shared/topology/topology.ts';
import { sampleOrderCreated } from '../../checks/support.ts';
import type { DemoContext } from '../../demo-context.ts';

export async function runDemo({ layers, connect, log }: DemoContext): Promise<void> {
  const connection = await connect();
  const name = `demo.${AUDIT_STREAM.name}`;
  const setup = await connection.createConfirmChannel();
  await setup.deleteQueue(name).catch(() => {}); // what an earlier demo left
  await layers.streams.declareStream(await connection.createChannel(), { name, retention: AUDIT_STREAM.retention });
  log.info(`declared ${name} (retention: ${AUDIT_STREAM.retention.maxBytes} bytes or ${AUDIT_STREAM.retention.maxAge})`);

  const write = async (orderId: string) => {
    const event = sampleOrderCreated(orderId);
    const { content, options } = layers.codec.encode(event);
    setup.sendToQueue(name, content, options);
    await setup.waitForConfirms();
  };
  for (const orderId of ['a-1', 'a-2', 'a-3']) await write(orderId);
  log.info('wrote the events of orders a-1, a-2 and a-3');
  // A moment between the writes, a whole second after the first three: timestamps count in seconds.
  const moment = new Date(Math.floor(Date.now() / 1000) * 1000 + 1000);
  await new Promise((resolve) => setTimeout(resolve, moment.getTime() + 100 - Date.now()));

  const readers = [
    { from: 'first' as const, label: 'from first' },
    { from: 'next' as const, label: 'from next' },
  ];
  const stops: Array<() => Promise<void>> = [];
  for (const { from, label } of readers) {
    const reader = await layers.streams.read(
      await connection.createChannel(),
      name,
      (message, offset) => log.info(`reader ${label} got offset ${offset}: order ${layers.codec.decode(message).orderId}`),
      { from, prefetch: 10 },
    );
    stops.push(() => reader.stop());
  }
  for (const orderId of ['b-1', 'b-2']) await write(orderId);
  log.info(`wrote the events of orders b-1 and b-2 (after ${moment.toISOString()})`);
  const late = await layers.streams.read(
    await connection.createChannel(),
    name,
    (message, offset) =>
      log.info(`reader from ${moment.toISOString()} got offset ${offset}: order ${layers.codec.decode(message).orderId}`),
    { from: moment, prefetch: 10 },
  );
  stops.push(() => late.stop());
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const stop of stops) await stop();
  // AMQP cannot count a stream (queue.declare-ok says 0 messages): a new reader from the start can.
  let found = 0;
  const recount = await layers.streams.read(await connection.createChannel(), name, () => void found++, { from: 'first', prefetch: 10 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await recount.stop();
  log.info(`a new reader from first still finds ${found} messages: reading removed none`);
  await setup.deleteQueue(name);
}
