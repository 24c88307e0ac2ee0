// A network that holds the broker's answers back: lets a check see what a publisher does before
// its confirm arrives (milestone 4's "waits for the confirm" check).
import net from 'node:net';
import type { CheckContext } from '../check.ts';

/**
 * A TCP relay between the layer's connection and the broker that can hold back what the broker
 * sends (its confirms among it), as a slow network would. What the client sends goes through.
 */
export async function relayToBroker(context: CheckContext): Promise<{ url: string; hold(): void; release(): void }> {
  const broker = new URL(context.vhost.url);
  const sockets = new Set<net.Socket>();
  let holding = false;
  const held: Array<() => void> = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(broker.port || 5672), broker.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => (holding ? held.push(() => client.write(chunk)) : client.write(chunk)));
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
  return {
    url: url.toString(),
    hold: () => void (holding = true),
    release: () => {
      holding = false;
      for (const write of held.splice(0)) write();
    },
  };
}
