// The six services as separate processes, the way `npm start` runs them. The crash test: shipping
// is killed with SIGKILL mid-flow (no shutdown, nothing flushed) and restarted; its state is on
// disk and its messages wait in the broker, so every order completes and nothing happens twice.
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { SERVICE_NAMES, type ServiceName } from '../../shared/messages/events.ts';
import { AuditStore } from '../../solutions/services/audit/audit-store.ts';
import { ShipmentStore } from '../../solutions/services/shipping/shipment-store.ts';
import type { ServiceDatabase } from '../../solutions/runtime/database.ts';
import { getOrder, postOrder, waitForStatus } from './support/order-api.ts';
import { ServiceProcess, serviceEnv } from './support/processes.ts';
import { countOf, openServiceFile, waitForAudit } from './support/service-state.ts';
import { useSystemUnderTest } from './support/system-under-test.ts';

describe('services as separate processes', () => {
  const sut = useSystemUnderTest('processes');
  const running = new Map<ServiceName, ServiceProcess>();
  const databases: ServiceDatabase[] = [];
  let env: NodeJS.ProcessEnv;
  let baseUrl: string;

  const service = (name: ServiceName): ServiceProcess => {
    const found = running.get(name);
    if (!found) throw new Error(`${name} is not running`);
    return found;
  };
  const open = (name: ServiceName) => {
    const db = openServiceFile(sut.dataDir, name);
    databases.push(db);
    return db;
  };

  beforeAll(async () => {
    env = serviceEnv({
      brokerUrl: sut.vhost.url,
      managementUrl: inject('managementUrl'),
      dataDir: sut.dataDir,
      extra: { DELIVERY_DELAY_MS: '300', RETRY_DELAY_MS: '200' },
    });
    const started = await Promise.allSettled(SERVICE_NAMES.map((name) => ServiceProcess.start(name, env)));
    for (const result of started) if (result.status === 'fulfilled') running.set(result.value.name, result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    baseUrl = `http://127.0.0.1:${service('order').httpPort}`;
  }, 90_000);

  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      for (const [name, process] of running) console.log(`🚨 output of ${name}:\n${process.output().split('\n').slice(-40).join('\n')}`);
    });
  });

  // Registered after useSystemUnderTest's, so it runs first: processes stop before their vhost goes.
  afterAll(async () => {
    for (const db of databases) db.close();
    await Promise.all([...running.values()].map((process) => process.stop()));
  });

  it('shipping killed with SIGKILL mid-flow and restarted: every order completes, each shipped once', async () => {
    const order = (orderId: string) => ({ orderId, user: 'gayal', items: ['item1', 'item2'] });
    const beforeCrash = ['crash-1', 'crash-2', 'crash-3'];
    const whileDown = ['crash-4', 'crash-5', 'crash-6'];

    for (const orderId of beforeCrash) expect((await postOrder(baseUrl, order(orderId))).status).toBe(201);
    // Mid-flow: the first order has its shipment, the others may be anywhere on their way.
    await waitForStatus(baseUrl, 'crash-1', 'shipped', 20_000);
    service('shipping').signal('SIGKILL');
    expect(await service('shipping').waitForExit()).toEqual({ code: null, signal: 'SIGKILL' });
    running.delete('shipping');

    for (const orderId of whileDown) expect((await postOrder(baseUrl, order(orderId))).status).toBe(201);
    // Without shipping the flow stops at 'paid'; the orders placed before the crash are all still there.
    for (const orderId of whileDown) await waitForStatus(baseUrl, orderId, 'paid', 20_000);
    for (const orderId of beforeCrash) expect(await getOrder(baseUrl, orderId)).toBeDefined();

    running.set('shipping', await ServiceProcess.start('shipping', env));

    const audit = new AuditStore(open('audit'));
    for (const orderId of [...beforeCrash, ...whileDown]) {
      const completed = await waitForStatus(baseUrl, orderId, 'completed', 30_000);
      expect(completed.history.map((entry) => entry.status)).toEqual(['pending', 'paid', 'shipped', 'completed']);
      const trail = await waitForAudit(audit, orderId, ['order.created', 'shipping.prepared', 'shipping.delivered', 'order.completed']);
      for (const type of ['order.created', 'payment.success', 'shipping.prepared', 'shipping.delivered', 'order.completed']) {
        expect(countOf(trail, type), `🚨 order ${orderId}: exactly one ${type}`).toBe(1);
      }
    }

    // The shipment prepared before the crash is the one the restarted service delivered (its state was kept).
    const shipments = new ShipmentStore(open('shipping'));
    const crash1 = await getOrder(baseUrl, 'crash-1');
    const shipped = crash1?.history.find((entry) => entry.status === 'shipped');
    expect(shipped?.detail).toBe(`shipment ${shipments.find('crash-1')?.shipmentId}`);
    for (const orderId of [...beforeCrash, ...whileDown]) expect(shipments.find(orderId)?.status).toBe('delivered');
  }, 120_000);

  it('SIGTERM stops a service gracefully: exit code 0 and "stopped" logged', async () => {
    const notification = service('notification');
    notification.signal('SIGTERM');
    const exit = await notification.waitForExit();
    running.delete('notification');

    expect(exit).toEqual({ code: 0, signal: null });
    const output = notification.output();
    expect(output).toContain('[notification] SIGTERM received');
    expect(output.trimEnd().split('\n').at(-1), '🚨 the last line a stopped service prints').toBe('[notification] stopped');
  });
});
