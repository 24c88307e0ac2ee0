// The exchanges of milestone 2's vhost as the management API shows them: their type and options,
// for the checks that look at what declareRoutes declared.
import { type CheckContext, expectThat } from '../../check.ts';

export interface ExchangeInfo {
  name: string;
  type: string;
  durable: boolean;
  arguments: Record<string, unknown>;
  auto_delete: boolean;
  internal: boolean;
}

/** The exchange as the management API shows it, or undefined when it does not exist. */
export async function exchangeInfos(context: CheckContext): Promise<Map<string, ExchangeInfo>> {
  const exchanges = await context.vhost.api.request<ExchangeInfo[]>('GET', `/exchanges/${encodeURIComponent(context.vhost.name)}`);
  return new Map(
    exchanges.map(({ name, type, durable, arguments: args, auto_delete, internal }) => [
      name,
      { name, type, durable, arguments: args, auto_delete, internal },
    ]),
  );
}

async function exchangeInfo(context: CheckContext, name: string): Promise<ExchangeInfo | undefined> {
  return (await exchangeInfos(context)).get(name);
}

export async function requireExchange(context: CheckContext, name: string, type: string): Promise<ExchangeInfo> {
  const info = await exchangeInfo(context, name);
  expectThat(info, `declareRoutes to declare ${name} (a ${type} exchange)`, `there is no exchange ${name} after declareRoutes`);
  return info;
}

/** What an auto-delete exchange does, for the failure message. */
export const autoDeleted =
  'an auto-delete exchange: the broker deletes it when its last binding goes (a queue unbound or deleted), and events published to it then close the channel';
