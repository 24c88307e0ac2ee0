// `npm run dashboard`: the live view of the running order system, as a process of its own. `npm
// start` launches it too; then its supervisor lets the page stop and start services (over IPC).
import { findBroker } from '../../shared/broker/find-broker.ts';
import { defineCli, parseOrExit, runMain } from '../../shared/cli/args.ts';
import { readEnv } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';
import { BrokerWatch } from './broker-watch.ts';
import { OrderBoard } from './order-board.ts';
import { type ServiceControl, startDashboard } from './server.ts';
import { supervisorControl } from './supervisor-control.ts';

const log = createLogger('dashboard');

const DASHBOARD_CLI = defineCli({
  command: 'npm run dashboard',
  synopsis: ['npm run dashboard'],
  summary:
    'The live view of the running order system: orders as they move, queues, the topology, parked messages, and (under npm start) stopping and starting services.',
  notes: `Settings: DASHBOARD_PORT (default 8081; 0 = any free port), DASHBOARD_HOST (default 127.0.0.1; anywhere else needs DASHBOARD_TOKEN,
sent by the page from ?token=...), ORDER_API_URL (default http://127.0.0.1:HTTP_PORT). npm start runs it for you.`,
});

async function main(): Promise<void> {
  parseOrExit(DASHBOARD_CLI);
  const env = readEnv();
  const broker = await findBroker({ log, mayStartBroker: false });
  const board = new OrderBoard();
  const watch = new BrokerWatch(broker.url, broker.management, board, log, env.QUEUE_TYPE);
  const control: ServiceControl | undefined = process.send ? supervisorControl() : undefined;
  const dashboard = await startDashboard({
    host: env.DASHBOARD_HOST,
    port: env.DASHBOARD_PORT,
    token: env.DASHBOARD_TOKEN,
    dataDir: env.DATA_DIR,
    orderApiUrl: env.ORDER_API_URL ?? `http://127.0.0.1:${env.HTTP_PORT}`,
    board,
    watch,
    control,
    log,
  });
  watch.start();
  log.info(`Dashboard on ${dashboard.url}`);
  process.send?.({ type: 'ready', service: 'dashboard', url: dashboard.url });
  const shutdown = () => void Promise.all([dashboard.stop(), watch.stop()]).finally(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  process.on('disconnect', shutdown);
}

// A setting to change (DashboardConfigError): exit 1; no broker, its port taken: 3; a bug: 4 (shared/cli/errors.ts).
await runMain(main);
