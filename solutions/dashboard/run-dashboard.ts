// `npm run dashboard`: the live view of the running order system, as a process of its own. `npm
// start` launches it too; then its supervisor lets the page stop and start services (over IPC).
import { BrokerNotFoundError, findBroker } from '../../shared/broker/find-broker.ts';
import { readEnv } from '../../shared/config.ts';
import { createLogger, describeError } from '../../shared/log.ts';
import { BrokerWatch } from './broker-watch.ts';
import { OrderBoard } from './order-board.ts';
import { DashboardConfigError, type ServiceControl, startDashboard } from './server.ts';
import { supervisorControl } from './supervisor-control.ts';

const log = createLogger('dashboard');

async function main(): Promise<void> {
  if (process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) {
    console.log('Usage: npm run dashboard\n\nThe live view of the running order system on http://localhost:DASHBOARD_PORT (default 8081).\nSettings: DASHBOARD_PORT, DASHBOARD_HOST (default 127.0.0.1), DASHBOARD_TOKEN (needed off loopback), ORDER_API_URL.');
    return;
  }
  const unknown = process.argv.slice(2)[0];
  if (unknown !== undefined) {
    console.error(`unknown argument ${unknown}\nUsage: npm run dashboard`);
    process.exit(2);
  }
  const env = readEnv();
  const broker = await findBroker({ log, allowContainer: false });
  const board = new OrderBoard();
  const watch = new BrokerWatch(broker.url, broker.management, board, log);
  const control: ServiceControl | undefined = process.send ? supervisorControl() : undefined;
  const dashboard = await startDashboard({
    host: env.DASHBOARD_HOST,
    port: env.DASHBOARD_PORT,
    token: env.DASHBOARD_TOKEN,
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

main().catch((error: unknown) => {
  if (error instanceof BrokerNotFoundError || error instanceof DashboardConfigError) console.error(error.message);
  else log.error('could not start', error);
  process.exit(1);
});

