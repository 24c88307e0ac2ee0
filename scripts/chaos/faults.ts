// The faults a chaos run injects, one at a time while orders flow, and how long the system took to
// get over each: from the moment of the fault until every consumed queue has its consumer again,
// and until the next order reached its end.
import type { ServiceName } from '../../shared/messages/events.ts';
import { QUEUES } from '../../shared/topology/topology.ts';
import type { ChaosBroker, ChaosNode } from './chaos-broker.ts';
import { CONSUMED_QUEUES, type Observer } from './observer.ts';
import type { OrderLoad } from './order-load.ts';
import type { ServiceFleet } from './service-fleet.ts';

export type Fault =
  | { kind: 'broker-restart' }
  | { kind: 'kill-service'; service: ServiceName }
  | { kind: 'close-connections' }
  | { kind: 'kill-leader-node' };

export interface FaultResult {
  fault: string;
  kind: Fault['kind'];
  /** Seconds since the first order was placed. */
  atSecond: number;
  /**
   * At the moment of the fault: POSTs not answered yet, orders placed and not ended, and messages
   * ready or unacked on the queues the fault hits (the management API's last sample, up to 1 s old).
   */
  inFlight: { posts: number; orders: number; messages: number };
  detail?: string;
  /** From the fault until every consumed queue had a consumer again (a killed service: until its new process had them). */
  consumersBackMs?: number;
  /** From the fault until an order placed after it reached its end: the whole saga works again. */
  nextCompletionMs?: number;
  /** The later of the two: the system is back. Undefined when it was not back within the deadline. */
  recoveredMs?: number;
  /** A killed node: false when the services did not get going again on the others by themselves. */
  movedOn?: boolean;
}

/** The queues each service consumes: what its kill leaves without a consumer. */
const QUEUES_OF: Record<ServiceName, string[]> = {
  order: [QUEUES.order],
  inventory: [QUEUES.inventory],
  payment: [QUEUES.payment, QUEUES.paymentRpc],
  shipping: [QUEUES.shipping],
  notification: [QUEUES.notificationEmail, QUEUES.notificationSms],
  audit: [QUEUES.audit],
};

const RECOVERY_DEADLINE_MS = 90_000;
/** How long a killed node stays down before the suite starts it again, if the services have not moved on by then. */
const NODE_DOWN_MS = 30_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function describeFault(fault: Fault): string {
  switch (fault.kind) {
    case 'broker-restart':
      return 'broker restart (stop_app, 2 s, start_app)';
    case 'kill-service':
      return `kill -9 ${fault.service}`;
    case 'close-connections':
      return 'every connection closed (management API)';
    case 'kill-leader-node':
      return 'kill -9 of the node leading the busiest queues';
  }
}

interface QueueInfo {
  name: string;
  type?: string;
  leader?: string;
  node?: string;
  messages?: number;
  message_stats?: { publish?: number; deliver_get?: number };
}

async function messagesOn(broker: ChaosBroker, queues: readonly string[]): Promise<number> {
  const list = await broker
    .api()
    .request<QueueInfo[]>('GET', '/queues/%2F?columns=name,messages')
    .catch(() => [] as QueueInfo[]);
  return list.filter((q) => queues.includes(q.name)).reduce((sum, q) => sum + (q.messages ?? 0), 0);
}

/** The node that leads the quorum queues with the most traffic so far, and which queues those are. */
async function busiestLeader(broker: ChaosBroker): Promise<{ node: ChaosNode; queues: string[] }> {
  const list = await broker.api().request<QueueInfo[]>('GET', '/queues/%2F');
  const traffic = new Map<string, { total: number; queues: string[] }>();
  for (const queue of list) {
    const leader = queue.leader ?? queue.node;
    if (queue.type !== 'quorum' || !leader) continue;
    const entry = traffic.get(leader) ?? { total: 0, queues: [] };
    entry.total += (queue.message_stats?.publish ?? 0) + (queue.message_stats?.deliver_get ?? 0);
    entry.queues.push(queue.name);
    traffic.set(leader, entry);
  }
  const [name, entry] = [...traffic].sort((a, b) => b[1].total - a[1].total)[0] ?? [];
  const node = broker.nodes.find((n) => n.node.node === name && n.alive);
  if (!node || !entry) throw new Error('no quorum queue has a leader on a node that is up (is QUEUE_TYPE=quorum?)');
  return { node, queues: entry.queues.sort() };
}

export interface FaultContext {
  broker: ChaosBroker;
  fleet: ServiceFleet;
  observer: Observer;
  load: OrderLoad;
  loadStartedAt: number;
  /** Orders placed and not ended yet. */
  openOrders(): number;
}

/** When the first order placed after `since` ended; undefined at the deadline, or as soon as no order is placed after it. */
async function nextCompletion(context: FaultContext, since: number, deadline: number): Promise<number | undefined> {
  while (Date.now() < deadline) {
    const after = context.load.sent
      .filter((s) => s.at >= since)
      .slice(0, 50)
      .map((s) => s.orderId);
    const at = context.observer.firstEnded(after);
    if (at !== undefined) return at;
    if (after.length === 0 && context.load.allPlaced) return undefined;
    // The gate may hold the next stretch back until this fault is over: let one order through to measure with.
    if (after.length === 0) context.load.allowUpTo(context.load.placed + 1);
    await sleep(100);
  }
  return undefined;
}

export async function injectFault(fault: Fault, context: FaultContext, burst: number): Promise<FaultResult> {
  const { broker, fleet, observer, load, loadStartedAt } = context;
  const hit = fault.kind === 'kill-service' ? QUEUES_OF[fault.service] : CONSUMED_QUEUES;
  const messages = await messagesOn(broker, hit);
  // Work in flight: a burst of orders. The order service is killed while their POSTs are open;
  // the others a moment later, when those orders' messages have reached their queues.
  load.burst(burst);
  if (fault.kind === 'kill-service' && fault.service === 'order') {
    for (const until = Date.now() + 1000; load.inFlight === 0 && Date.now() < until;) await sleep(2);
  } else {
    await sleep(150);
  }
  const result: FaultResult = {
    fault: describeFault(fault),
    kind: fault.kind,
    atSecond: 0,
    inFlight: { posts: load.inFlight, orders: context.openOrders(), messages },
  };
  let startedAt = Date.now();
  result.atSecond = (startedAt - loadStartedAt) / 1000;
  let consumersBackAt: Promise<number | undefined>;
  const deadline = () => Date.now() + RECOVERY_DEADLINE_MS;
  let completion = nextCompletion(context, startedAt, startedAt + RECOVERY_DEADLINE_MS);
  switch (fault.kind) {
    case 'broker-restart': {
      // rabbitmqctl boots a VM of its own first: the fault starts when stop_app has stopped the broker.
      await broker.restartApp(broker.nodes[0] as ChaosNode, 2000, () => {
        startedAt = Date.now();
        completion = nextCompletion(context, startedAt, startedAt + RECOVERY_DEADLINE_MS);
      });
      consumersBackAt = observer.consumersBack(CONSUMED_QUEUES, deadline());
      break;
    }
    case 'kill-service': {
      const pid = await fleet.kill(fault.service);
      const readyMs = await fleet.restart(fault.service);
      result.fault = `kill -9 ${fault.service} (pid ${pid})`;
      result.detail = `started again at once; ready after ${(readyMs / 1000).toFixed(1)} s`;
      consumersBackAt = observer.consumersBack(CONSUMED_QUEUES, deadline());
      break;
    }
    case 'close-connections': {
      const connections = await broker.api().request<Array<{ name: string }>>('GET', '/connections');
      await Promise.all(connections.map((c) => broker.api().closeConnection(c.name, 'chaos: every connection closed')));
      result.detail = `${connections.length} connections closed`;
      consumersBackAt = observer.consumersBack(CONSUMED_QUEUES, deadline());
      break;
    }
    case 'kill-leader-node': {
      const { node, queues } = await busiestLeader(broker);
      const pid = await broker.killNode(node);
      result.fault = `kill -9 of ${node.node.node} (pid ${pid})`;
      const led = `it led ${queues.length} quorum queues (${queues.join(', ')})`;
      // Do the services move on to the other two nodes by themselves? If not within NODE_DOWN_MS,
      // start the node again, as its machine's supervisor would, and see whether everything catches up.
      const movedOn = await observer.consumersBack(CONSUMED_QUEUES, Date.now() + NODE_DOWN_MS);
      if (movedOn !== undefined) {
        result.detail = `${led}; the services moved on to the other nodes`;
        consumersBackAt = Promise.resolve(movedOn);
        break;
      }
      const blocker =
        fleet.logs.recentWarnings.filter((line) => /home node|NOT_FOUND|not found/i.test(line)).at(-1) ??
        fleet.logs.recentWarnings.at(-1) ??
        'no warning logged';
      const bootedAt = Date.now();
      await broker.bootNode(node);
      const upAt = Date.now();
      result.movedOn = false;
      result.detail =
        `${led}; the services did **not** move on within ${NODE_DOWN_MS / 1000} s (last warning: ${blocker.slice(0, 220)}); ` +
        `the node was started again ${((bootedAt - startedAt) / 1000).toFixed(0)} s after the kill and was up ${((upAt - bootedAt) / 1000).toFixed(0)} s later`;
      consumersBackAt = observer.consumersBack(CONSUMED_QUEUES, deadline());
      break;
    }
  }
  const [back, completed] = await Promise.all([consumersBackAt, completion]);
  if (back !== undefined) result.consumersBackMs = back - startedAt;
  else {
    const counts = await observer.consumers();
    const without = counts ? CONSUMED_QUEUES.filter((queue) => !counts.get(queue)) : ['(the broker did not answer)'];
    result.detail = `${result.detail ? `${result.detail}; ` : ''}without a consumer ${RECOVERY_DEADLINE_MS / 1000} s later: ${without.join(', ')}`;
  }
  if (completed !== undefined) result.nextCompletionMs = Math.max(0, completed - startedAt);
  if (back !== undefined && completed !== undefined)
    result.recoveredMs = Math.max(result.consumersBackMs ?? 0, result.nextCompletionMs ?? 0);
  return result;
}
