// One chaos run, start to finish: a broker of its own (one node or a cluster of three), the six
// services as processes on it, the planned orders placed at a steady rate while the faults are
// injected one after another, then the wait until every order has ended, the check of what each
// service recorded, and the clean-up of every process and node, whatever happened.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../shared/log.ts';
import type { ManagementApi } from '../../shared/broker/management-api.ts';
import { QUEUES } from '../../shared/topology/topology.ts';
import { freePort } from '../../shared/broker/ports.ts';
import { startChaosBroker } from './chaos-broker.ts';
import { describeFault, injectFault, type Fault, type FaultResult } from './faults.ts';
import { Observer } from './observer.ts';
import { OrderLoad } from './order-load.ts';
import { planOrders } from './order-mix.ts';
import { ServiceFleet, type UnexpectedExit } from './service-fleet.ts';
import { readBrokerLeftovers, verifyRun, type Verdict } from './verify.ts';

export interface ChaosOptions {
  orders: number;
  faults: Fault[];
  cluster: boolean;
  /** Orders placed per second (default: spread so that each fault gets about five seconds of orders). */
  ratePerSecond?: number;
  /** CHAOS_FAILURE_RATE for every service: the share of handler calls that fail transiently first. */
  failureRate: number;
  /** How long every order has, after the last was placed, to reach its end. */
  deadlineSeconds: number;
  seed: number;
  label: string;
  log: Logger;
  /** Keep the services' log file and data folder (they are kept anyway when the run fails). */
  keepFiles?: boolean;
  /** On SIGINT or SIGTERM, stop the services and the nodes, then exit 130 (the command line's choice; a test's runner has its own). */
  exitOnSignal?: boolean;
}

export interface ChaosResult {
  mode: 'single node' | '3-node cluster';
  rabbitmq: string;
  settings: {
    orders: number;
    ratePerSecond: number;
    failureRate: number;
    queueType: 'classic' | 'quorum';
    retryDelayMs: number;
    maxAttempts: number;
    stallAfterMs?: number;
    seed: number;
    faults: string[];
  };
  /** toSettled: from the first order placed until every ended order's records agreed (re-drives fill gaps after an order ended). */
  seconds: { startup: number; load: number; toAllEnded: number; toSettled?: number; total: number };
  placement: { retries: number; byStatus: Record<string, number>; refused: Array<{ orderId: string; status: number }>; unplaced: number };
  faults: FaultResult[];
  injectedFailures: number;
  unexpectedExits: UnexpectedExit[];
  verdict: Verdict;
  /** 0 stuck, 0 lost (orders, audit entries, notifications not accounted for), 0 wrong, 0 applied twice, stock consistent, every order placed. */
  passed: boolean;
  /** Where the services' logs and databases were kept, when they were. */
  keptIn?: string;
}

const RETRY_DELAY_MS = 1000;
const MAX_ATTEMPTS = 5;
/** Short, so that re-drives (stall-watch.ts) happen within the run; far above how long a step takes here. */
const STALL_AFTER_MS = 10_000;
const SECONDS_PER_FAULT = 5;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The default mix of faults: a broker restart, kill -9 of each service, every connection closed. */
export const FULL_FAULTS: Fault[] = [
  { kind: 'broker-restart' },
  { kind: 'kill-service', service: 'inventory' },
  { kind: 'kill-service', service: 'payment' },
  { kind: 'kill-service', service: 'order' },
  { kind: 'close-connections' },
  { kind: 'kill-service', service: 'shipping' },
  { kind: 'kill-service', service: 'notification' },
  { kind: 'kill-service', service: 'audit' },
];

/** On the cluster the broker restart becomes the loss of a node, mid-load. */
export const CLUSTER_FAULTS: Fault[] = [
  { kind: 'kill-service', service: 'inventory' },
  { kind: 'close-connections' },
  { kind: 'kill-leader-node' },
  { kind: 'kill-service', service: 'payment' },
  { kind: 'kill-service', service: 'order' },
];

export function passed(verdict: Verdict, unplaced: number): boolean {
  const nothingLost = verdict.lost.length === 0 && verdict.missingAudit.length === 0 && verdict.missingNotifications.length === 0;
  return (
    nothingLost &&
    verdict.stuck.length === 0 &&
    verdict.wrong.length === 0 &&
    verdict.appliedTwice.length === 0 &&
    verdict.stock.consistent &&
    unplaced === 0
  );
}

/** Until every queue the saga uses is empty three readings in a row (the sinks lag the order's end). */
async function quiet(api: () => ManagementApi, timeoutMs: number): Promise<void> {
  const skip = new Set<string>([QUEUES.deadLetter, QUEUES.unroutable]);
  const deadline = Date.now() + timeoutMs;
  let calm = 0;
  while (Date.now() < deadline && calm < 3) {
    const list = await api()
      .request<Array<{ name: string; messages?: number }>>('GET', '/queues/%2F?columns=name,messages')
      .catch(() => undefined);
    calm = list && list.every((q) => skip.has(q.name) || !q.messages) ? calm + 1 : 0;
    await sleep(1000);
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const { log } = options;
  const runStarted = Date.now();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `chaos-${options.label}-`));
  const dataDir = path.join(workDir, 'data');
  fs.mkdirSync(dataDir);
  const ratePerSecond =
    options.ratePerSecond ?? Math.max(2, Math.min(25, options.orders / (Math.max(1, options.faults.length) * SECONDS_PER_FAULT)));
  const orders = planOrders(options.orders, `chaos-${options.label}-${process.pid}-${Date.now().toString(36)}`, options.seed);
  const idPrefix = orders[0]?.orderId.replace(/-0$/, '') ?? 'none';

  log.info(
    `starting ${options.cluster ? 'three throwaway RabbitMQ nodes and joining them into a cluster' : 'a throwaway RabbitMQ node'} (management plugin on)...`,
  );
  const broker = await startChaosBroker({ cluster: options.cluster });
  let fleet: ServiceFleet | undefined;
  let observer: Observer | undefined;
  let succeeded = false;
  /** Set once a signal is being handled: the run's own failures meanwhile (a service that exits, as asked) wait for its exit. */
  let stoppingOnSignal: Promise<never> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    log.warn(`${signal}: stopping the services and the broker nodes`);
    stoppingOnSignal = (async () => {
      await observer?.close().catch(() => {});
      await fleet?.stop().catch(() => {});
      await broker.stop().catch(() => {});
      log.info(`the services' log and databases are kept in ${workDir}`);
      process.exit(130);
    })();
  };
  if (options.exitOnSignal) for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, onSignal);
  try {
    const overview = await broker.api().request<{ rabbitmq_version: string }>('GET', '/overview');
    const httpPort = await freePort();
    const apiUrl = `http://127.0.0.1:${httpPort}`;
    const queueType = options.cluster ? 'quorum' : 'classic';
    fleet = new ServiceFleet(
      {
        ...process.env,
        NO_COLOR: '1',
        RABBITMQ_URL: broker.serviceUrl,
        RABBITMQ_MANAGEMENT_URL: broker.nodes[0]?.node.managementUrl,
        HTTP_PORT: String(httpPort), // fixed: the order service comes back on the same port after a kill
        DATA_DIR: dataDir,
        DELIVERY_DELAY_MS: '100',
        RETRY_DELAY_MS: String(RETRY_DELAY_MS),
        MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        STALL_AFTER_MS: String(STALL_AFTER_MS),
        QUEUE_TYPE: queueType,
        CHAOS_FAILURE_RATE: String(options.failureRate),
        WORKSHOP_LAYERS: 'solutions',
        SERVICE_NODE_ARGS: '',
        // Guest on the throwaway node, whatever this shell has (undefined values are not passed on).
        BROKER_USERS_FILE: undefined,
      },
      path.join(workDir, 'services.log'),
    );
    log.info(
      `RabbitMQ ${overview.rabbitmq_version} on ${broker.nodes.map((n) => n.node.node).join(', ')}; starting the six services (logs: ${fleet.logs.file})...`,
    );
    const servicesStarted = performance.now();
    await fleet.start();
    const startupSeconds = (performance.now() - servicesStarted) / 1000;
    observer = new Observer(() => broker.liveUrls(), dataDir);

    const faults = options.faults;
    const threshold = (index: number) => Math.round(((index + 1) * options.orders) / (faults.length + 1));
    const placementDeadline = Date.now() + (options.orders / ratePerSecond + faults.length * 60 + 60) * 1000;
    const load = new OrderLoad(() => apiUrl, orders, ratePerSecond, placementDeadline);
    load.allowUpTo(faults.length > 0 ? threshold(0) : options.orders);
    log.info(
      `placing ${options.orders} orders at ${ratePerSecond.toFixed(1)}/s; ${faults.length} faults on the way: ${faults.map(describeFault).join('; ')}; ${Math.round(options.failureRate * 100)}% of handler calls fail transiently`,
    );
    const loadStartedAt = Date.now();
    const placing = load.run();
    const results: FaultResult[] = [];
    const accepted = () => new Set(load.placements.keys());
    const openOrders = () => {
      const statuses = observer?.statuses(idPrefix) ?? new Map<string, string>();
      return [...accepted()].filter((id) => !['completed', 'rejected', 'failed'].includes(statuses.get(id) ?? '')).length;
    };
    // A burst before each fault, out of the orders of its stretch (never more than a third of it).
    const burst = Math.max(1, Math.min(8, Math.floor(options.orders / (faults.length + 1) / 3)));
    for (const [index, fault] of faults.entries()) {
      while (load.placed < threshold(index) && !load.allPlaced && Date.now() < placementDeadline) await sleep(50);
      load.allowUpTo(index + 1 < faults.length ? threshold(index + 1) : options.orders);
      const result = await injectFault(fault, { broker, fleet, observer, load, loadStartedAt, openOrders }, burst);
      results.push(result);
      const took = (ms?: number) => (ms === undefined ? 'not within the deadline' : `${(ms / 1000).toFixed(1)} s`);
      log.info(
        `${result.fault} at ${result.atSecond.toFixed(1)} s (${result.inFlight.orders} orders, ${result.inFlight.posts} POSTs, ${result.inFlight.messages} messages in flight): consumers back ${took(result.consumersBackMs)}, next order ended ${took(result.nextCompletionMs)}`,
      );
    }
    load.allowUpTo(options.orders);
    await placing;
    const loadSeconds = (Date.now() - loadStartedAt) / 1000;
    log.info(
      `${load.placements.size} of ${options.orders} orders accepted (${load.retries} POSTs retried); waiting up to ${options.deadlineSeconds} s for each to end...`,
    );

    const endDeadline = Date.now() + options.deadlineSeconds * 1000;
    let openAtDeadline = new Set<string>();
    for (;;) {
      const statuses = observer.statuses(idPrefix);
      const open = [...accepted()].filter((id) => !['completed', 'rejected', 'failed'].includes(statuses.get(id) ?? ''));
      if (open.length === 0 || Date.now() > endDeadline) {
        if (open.length > 0) log.warn(`${open.length} orders have not ended after ${options.deadlineSeconds} s`);
        openAtDeadline = new Set(open);
        break;
      }
      await sleep(500);
    }
    const toAllEnded = (Date.now() - loadStartedAt) / 1000;
    // An ended order can still have a gap a re-drive fills: a reservation never committed, a hole in
    // its audit trail. They get the rest of the deadline, and at least three stalls' time.
    const settleDeadline = Math.max(endDeadline, Date.now() + 3 * STALL_AFTER_MS);
    const noLeftovers = { deadLetters: { count: 0, reasons: {}, byQueue: {} }, unroutable: 0, parkedNotifications: new Set<string>() };
    for (;;) {
      const soFar = verifyRun(dataDir, orders, accepted(), noLeftovers, openAtDeadline);
      const gaps = soFar.wrong.length + soFar.missingAudit.length + (soFar.stock.reservedLeft > 0 ? 1 : 0);
      if (gaps === 0 || Date.now() > settleDeadline) {
        if (gaps > 0)
          log.warn(
            `${soFar.wrong.length} orders with records that disagree and ${soFar.missingAudit.length} with gaps in the audit log are left after the deadline`,
          );
        break;
      }
      await sleep(1000);
    }
    const toSettled = (Date.now() - loadStartedAt) / 1000;
    await quiet(() => broker.api(), 60_000);
    const leftovers = await readBrokerLeftovers(broker.api());
    await observer.close();
    observer = undefined;
    await fleet.stop();
    const exits = fleet.unexpectedExits;
    const injectedFailures = fleet.logs.counts.injectedFailures;
    fleet = undefined;
    const verdict = verifyRun(dataDir, orders, accepted(), leftovers, openAtDeadline);

    const byStatus: Record<string, number> = {};
    for (const placement of load.placements.values()) byStatus[placement.status] = (byStatus[placement.status] ?? 0) + 1;
    const unplaced = load.unplaced.length + load.refused.length;
    const result: ChaosResult = {
      mode: options.cluster ? '3-node cluster' : 'single node',
      rabbitmq: overview.rabbitmq_version,
      settings: {
        orders: options.orders,
        ratePerSecond,
        failureRate: options.failureRate,
        queueType,
        retryDelayMs: RETRY_DELAY_MS,
        maxAttempts: MAX_ATTEMPTS,
        stallAfterMs: STALL_AFTER_MS,
        seed: options.seed,
        faults: faults.map(describeFault),
      },
      seconds: { startup: startupSeconds, load: loadSeconds, toAllEnded, toSettled, total: (Date.now() - runStarted) / 1000 },
      placement: { retries: load.retries, byStatus, refused: load.refused, unplaced: load.unplaced.length },
      faults: results,
      injectedFailures,
      unexpectedExits: exits,
      verdict,
      passed: passed(verdict, unplaced),
    };
    succeeded = result.passed;
    if (!succeeded || options.keepFiles) result.keptIn = workDir;
    return result;
  } catch (error) {
    if (stoppingOnSignal) await stoppingOnSignal;
    throw error;
  } finally {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.removeListener(signal, onSignal);
    await observer?.close().catch(() => {});
    await fleet?.stop().catch(() => {});
    await broker.stop();
    if (succeeded && !options.keepFiles) fs.rmSync(workDir, { recursive: true, force: true });
    else log.info(`the services' log and databases are kept in ${workDir}`);
  }
}
