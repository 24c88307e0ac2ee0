// The nodes a service may connect to: RABBITMQ_URL's first node, then the other nodes of its cluster.
// amqplib's recovery reconnects to the one address it was given, so we give it an address object
// (amqplib reads its fields at every attempt) and point that object at the next node whenever an
// attempt fails or an established connection is lost. With one node this changes nothing.
import { redact, vhostOf } from '../../shared/broker/broker-url.ts';

/** The object form of an AMQP address that amqplib's connect accepts (lib/connect.js). */
interface AmqpAddress {
  protocol: string;
  hostname: string;
  port: number;
  username: string;
  password: string;
  vhost: string;
  heartbeat?: number;
  frameMax?: number;
}

function addressOf(amqpUrl: string): AmqpAddress {
  const url = new URL(amqpUrl);
  const protocol = url.protocol.replace(/:$/, '');
  const heartbeat = url.searchParams.get('heartbeat');
  const frameMax = url.searchParams.get('frameMax');
  return {
    protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port) || (protocol === 'amqps' ? 5671 : 5672),
    username: url.username === '' && url.password === '' ? 'guest' : decodeURIComponent(url.username),
    password: url.username === '' && url.password === '' ? 'guest' : decodeURIComponent(url.password),
    vhost: vhostOf(amqpUrl),
    ...(heartbeat !== null ? { heartbeat: Number(heartbeat) } : {}),
    ...(frameMax !== null ? { frameMax: Number(frameMax) } : {}),
  };
}

export class BrokerNodes {
  private readonly urls: string[];
  private index = 0;
  /** Handed to amqplib once; its fields are rewritten in place by advance(). */
  readonly address: AmqpAddress;

  constructor(urls: string[]) {
    if (urls.length === 0) throw new Error('no broker URL to connect to');
    this.urls = urls;
    this.address = addressOf(urls[0]!);
  }

  get count(): number {
    return this.urls.length;
  }

  /** The node the next attempt goes to, password hidden (for logs). */
  current(): string {
    return redact(this.urls[this.index]!);
  }

  /** Points the next attempt at the next node, round the list. */
  advance(): void {
    if (this.urls.length === 1) return;
    this.index = (this.index + 1) % this.urls.length;
    const next = addressOf(this.urls[this.index]!);
    for (const key of ['heartbeat', 'frameMax'] as const) delete this.address[key];
    Object.assign(this.address, next);
  }
}
