// The broker a chaos run owns: one throwaway RabbitMQ node, or three joined into a cluster, each
// with the management plugin, on spare ports of this machine (shared/broker/throwaway-node.ts).
// Never the machine's own broker: every rabbitmqctl call names its node (-n) and the run's cookie.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { ManagementApi } from '../../shared/broker/management-api.ts';
import { rabbitmqInstall } from '../../shared/broker/rabbitmq-install.ts';
import { startThrowawayNode, type ThrowawayNode } from '../../shared/broker/throwaway-node.ts';

const run = promisify(execFile);

export interface ChaosNode {
  node: ThrowawayNode;
  api: ManagementApi;
  /** False once the suite killed it. */
  alive: boolean;
}

export interface ChaosBroker {
  nodes: ChaosNode[];
  /** RABBITMQ_URL for the services: the node, or the cluster's nodes as a comma-separated list. */
  serviceUrl: string;
  /** The management API of a node that is up. */
  api(): ManagementApi;
  /** AMQP URLs of the nodes that are up, for the suite's own observer. */
  liveUrls(): string[];
  rabbitmqctl(node: ChaosNode, args: string[], timeoutMs?: number): Promise<string>;
  /** `stop_app`, a pause, `start_app` on the node: what an operator's restart of the broker does to its clients. */
  restartApp(node: ChaosNode, downMs: number, onStopped?: () => void): Promise<void>;
  /** SIGKILL to the node's Erlang VM (a crashed machine); resolves with its pid. */
  killNode(node: ChaosNode): Promise<number>;
  /** Starts a killed node again (same name, ports, data): it rejoins its cluster. */
  bootNode(node: ChaosNode): Promise<void>;
  stop(): Promise<void>;
}

const PLUGINS = ['rabbitmq_management', 'rabbitmq_prometheus'];

/** Started side by side; when one fails, the others are stopped. */
async function startNodes(count: number, erlangCookie: string): Promise<ThrowawayNode[]> {
  const started = await Promise.allSettled(
    Array.from({ length: count }, () => startThrowawayNode({ prefix: 'chaos', plugins: PLUGINS, startTimeoutMs: 120_000, erlangCookie })),
  );
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw failed.reason;
  }
  return nodes;
}

export async function startChaosBroker(options: { cluster: boolean }): Promise<ChaosBroker> {
  const cookie = `chaos${crypto.randomBytes(12).toString('hex')}`;
  const nodes: ChaosNode[] = (await startNodes(options.cluster ? 3 : 1, cookie)).map((node) => ({
    node,
    api: new ManagementApi({ baseUrl: node.managementUrl as string, username: 'guest', password: 'guest' }),
    alive: true,
  }));
  // The nodes' own rabbitmqctl: the machine's, or RABBITMQ_SERVER_ROOT's (a 4.x root) through chroot.
  const install = rabbitmqInstall();
  const rabbitmqctl = async (target: ChaosNode, args: string[], timeoutMs = 60_000) => {
    const command = install.command('rabbitmqctl', ['-n', target.node.node, '--erlang-cookie', cookie, ...args]);
    return (await run(command.file, command.args, { timeout: timeoutMs })).stdout;
  };
  const broker: ChaosBroker = {
    nodes,
    serviceUrl: nodes.map((n) => n.node.url).join(','),
    api: () => (nodes.find((n) => n.alive) ?? (nodes[0] as ChaosNode)).api,
    liveUrls: () => nodes.filter((n) => n.alive).map((n) => n.node.url),
    rabbitmqctl,
    async restartApp(target, downMs, onStopped) {
      await rabbitmqctl(target, ['-q', 'stop_app']);
      onStopped?.();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await rabbitmqctl(target, ['-q', 'start_app']);
    },
    async killNode(target) {
      target.alive = false;
      const pid = await target.node.kill();
      if (pid <= 0) throw new Error(`no Erlang VM found for ${target.node.node}`);
      return pid;
    },
    async bootNode(target) {
      await target.node.boot();
      target.alive = true;
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.node.stop()));
    },
  };
  try {
    if (options.cluster) await joinCluster(broker);
  } catch (error) {
    await broker.stop();
    throw error;
  }
  return broker;
}

/** The second and third node join the first: stop_app, join_cluster, start_app, then all three must be running. */
async function joinCluster(broker: ChaosBroker): Promise<void> {
  const [first, ...others] = broker.nodes as [ChaosNode, ...ChaosNode[]];
  for (const other of others) {
    await broker.rabbitmqctl(other, ['-q', 'stop_app']);
    await broker.rabbitmqctl(other, ['-q', 'join_cluster', first.node.node]);
    await broker.rabbitmqctl(other, ['-q', 'start_app']);
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const running = await first.api.request<Array<{ name: string; running: boolean }>>('GET', '/nodes').then(
      (list) => list.filter((n) => n.running).length,
      () => 0,
    );
    if (running === broker.nodes.length) return;
    if (Date.now() > deadline) throw new Error(`the cluster has ${running} of ${broker.nodes.length} nodes running after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
