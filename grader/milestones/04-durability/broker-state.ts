// Milestone 4's looks at the broker: connections a restart may close, whether an exchange or queue
// exists, and what the management API says would survive a restart.
import amqp, { type ChannelModel } from 'amqplib';
import { ignoreErrorsTheCheckReports } from '../../checks/support.ts';
import type { Context } from './publishing.ts';

export async function connectTo(context: Context, url: string): Promise<ChannelModel> {
  const connection = ignoreErrorsTheCheckReports(await amqp.connect(url)); // a restart closes it on purpose
  context.onCleanup(() => connection.close().catch(() => {}));
  return connection;
}

/** Ready messages in a queue, or undefined when it does not exist (a fresh channel: a 404 closes it). */
export async function messagesIn(connection: ChannelModel, queue: string): Promise<number | undefined> {
  const channel = ignoreErrorsTheCheckReports(await connection.createChannel());
  try {
    const { messageCount } = await channel.checkQueue(queue);
    await channel.close();
    return messageCount;
  } catch {
    return undefined;
  }
}

export async function exchangeExists(connection: ChannelModel, exchange: string): Promise<boolean> {
  const channel = ignoreErrorsTheCheckReports(await connection.createChannel());
  try {
    await channel.checkExchange(exchange);
    await channel.close();
    return true;
  } catch {
    return false;
  }
}

export interface ManagementEntity {
  name: string;
  durable: boolean;
  auto_delete: boolean;
  exclusive?: boolean;
  internal?: boolean;
  type: string;
  arguments: Record<string, unknown>;
}

export const listOf = (context: Context, kind: 'queues' | 'exchanges') =>
  context.vhost.api.request<ManagementEntity[]>(
    'GET',
    `/${kind}/${encodeURIComponent(context.vhost.name)}?columns=name,durable,auto_delete,exclusive,internal,type,arguments`,
  );

/** The topology's exchanges or queues that a restart would delete (not durable, or auto-delete). */
export function transientOnes(specs: { name: string }[], listed: ManagementEntity[]): string[] {
  return specs
    .map((spec) => ({ name: spec.name, entity: listed.find((entity) => entity.name === spec.name) }))
    .filter(({ entity }) => !entity || !entity.durable || entity.auto_delete || entity.exclusive)
    .map(({ name, entity }) => (entity ? `${name} (durable ${entity.durable}, auto_delete ${entity.auto_delete})` : `${name} (missing)`));
}
