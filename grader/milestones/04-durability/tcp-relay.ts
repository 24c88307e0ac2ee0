// A network that holds the broker's answers back: lets a check see what a publisher does before
// its confirm arrives (milestone 4's "waits for the confirm" check), or hand the held answers over
// in another order the broker could have sent them in (its "a return belongs to one publish" check).
import net from 'node:net';
import type { CheckContext } from '../../check.ts';

export interface BrokerRelay {
  /** The broker's AMQP URL, through the relay. */
  url: string;
  /** From now on, what the broker sends waits in the relay. */
  hold(): void;
  /** Hands over what was held, as it came, and stops holding. */
  release(): void;
  /** The basic.publish the client has sent since hold(). */
  publishesSinceHold(): number;
  /** The publishes the held answers confirm (basic.ack or basic.nack, `multiple` counted out). */
  confirmsHeld(): number;
  /**
   * Hands over what was held with every basic.return first, then the confirms in delivery-tag order,
   * then the rest, and stops holding. The broker may send a return before the confirm of an earlier
   * publish (RabbitMQ confirms a batch at once, the return went out when its publish was routed),
   * and must send a publish's return before its own confirm: this order keeps to that.
   */
  releaseReturnsFirst(): void;
}

const FRAME_END = 0xce;
/** What a client sends before its first frame: "AMQP" 0 0 9 1. */
const PROTOCOL_HEADER_SIZE = 8;
const BASIC = 60;
const PUBLISH = 40;
const RETURN = 50;
const ACK = 80;
const NACK = 120;

interface Command {
  /** The frames of one command: a method frame and, for basic.return, its content header and body. */
  bytes: Buffer[];
  method?: { classId: number; methodId: number; deliveryTag?: bigint; multiple?: boolean };
}

/** Splits the broker's bytes into whole commands, and the bytes of a frame not complete yet. */
function commandsOf(data: Buffer): { commands: Command[]; rest: Buffer } {
  const commands: Command[] = [];
  let offset = 0;
  while (data.length - offset >= 8) {
    const type = data.readUInt8(offset);
    const size = data.readUInt32BE(offset + 3);
    const end = offset + 7 + size + 1;
    if (data.length < end) break;
    if (data.readUInt8(end - 1) !== FRAME_END) throw new Error('the relay lost track of the AMQP frames');
    const frame = data.subarray(offset, end);
    const payload = data.subarray(offset + 7, end - 1);
    if (type === 1) {
      const classId = payload.readUInt16BE(0);
      const methodId = payload.readUInt16BE(2);
      const confirm = classId === BASIC && (methodId === ACK || methodId === NACK);
      commands.push({
        bytes: [frame],
        method: {
          classId,
          methodId,
          ...(confirm ? { deliveryTag: payload.readBigUInt64BE(4), multiple: (payload.readUInt8(12) & 1) === 1 } : {}),
        },
      });
    } else if ((type === 2 || type === 3) && commands.length > 0) {
      commands.at(-1)?.bytes.push(frame); // content follows its method, on the same channel
    } else {
      commands.push({ bytes: [frame] }); // a heartbeat
    }
    offset = end;
  }
  return { commands, rest: data.subarray(offset) };
}

const isReturn = (command: Command) => command.method?.classId === BASIC && command.method.methodId === RETURN;
const isConfirm = (command: Command) => command.method?.deliveryTag !== undefined;

/**
 * A TCP relay between the layer's connection and the broker that can hold back what the broker
 * sends (its confirms among it), as a slow network would. What the client sends goes through.
 */
export async function relayToBroker(context: CheckContext): Promise<BrokerRelay> {
  const broker = new URL(context.vhost.url);
  const sockets = new Set<net.Socket>();
  let holding = false;
  let held: { client: net.Socket; chunk: Buffer }[] = [];
  let publishes = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(broker.port || 5672), broker.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    // The client's frames as they go by, to count its publishes while the broker's answers are held.
    let unread = Buffer.alloc(0);
    let headerLeft = PROTOCOL_HEADER_SIZE;
    client.on('data', (chunk: Buffer) => {
      const skipped = Math.min(headerLeft, chunk.length);
      headerLeft -= skipped;
      const { commands, rest } = commandsOf(Buffer.concat([unread, chunk.subarray(skipped)]));
      unread = Buffer.from(rest);
      if (holding) publishes += commands.filter((c) => c.method?.classId === BASIC && c.method.methodId === PUBLISH).length;
    });
    upstream.on('data', (chunk: Buffer) => (holding ? held.push({ client, chunk }) : client.write(chunk)));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) socket.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  context.onCleanup(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const url = new URL(context.vhost.url);
  url.host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;

  /** What is held, per client connection, as one buffer each. */
  const heldByClient = () => {
    const byClient = new Map<net.Socket, Buffer[]>();
    for (const { client, chunk } of held) byClient.set(client, [...(byClient.get(client) ?? []), chunk]);
    return [...byClient].map(([client, chunks]) => ({ client, data: Buffer.concat(chunks) }));
  };
  const takeHeld = () => {
    holding = false;
    const taken = heldByClient();
    held = [];
    return taken;
  };

  return {
    url: url.toString(),
    hold: () => {
      holding = true;
      publishes = 0;
    },
    publishesSinceHold: () => publishes,
    release: () => {
      for (const { client, data } of takeHeld()) client.write(data);
    },
    confirmsHeld() {
      let upTo = 0n;
      const single = new Set<bigint>();
      for (const { data } of heldByClient()) {
        for (const { method } of commandsOf(data).commands) {
          if (method?.deliveryTag === undefined) continue;
          if (method.multiple && method.deliveryTag > upTo) upTo = method.deliveryTag;
          else single.add(method.deliveryTag);
        }
      }
      return Number(upTo) + [...single].filter((tag) => tag > upTo).length;
    },
    releaseReturnsFirst() {
      for (const { client, data } of takeHeld()) {
        const { commands, rest } = commandsOf(data);
        const confirms = commands.filter(isConfirm).sort((a, b) => Number((a.method?.deliveryTag ?? 0n) - (b.method?.deliveryTag ?? 0n)));
        const reordered = [...commands.filter(isReturn), ...confirms, ...commands.filter((c) => !isReturn(c) && !isConfirm(c))];
        client.write(Buffer.concat([...reordered.flatMap((c) => c.bytes), rest]));
      }
    },
  };
}
