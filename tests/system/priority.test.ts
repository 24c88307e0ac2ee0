// Priority: orders pile up in inventory.queue while no inventory service runs; when one starts
// (prefetch 1, so it takes one message at a time), the express order is reserved first. With
// classic queues (x-max-priority) on every version; with quorum queues on RabbitMQ 4 and later,
// which order by priority without an argument, while quorum queues on 3.x keep arrival order.
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '../../solutions/system.ts';
import { eventually } from '../support/eventually.ts';
import { postOrder } from './support/order-api.ts';
import type { ServiceConfig } from '../../solutions/runtime/service-config.ts';
import { FAST_SETTINGS, useSystemUnderTest } from './support/system-under-test.ts';

const STANDARD_ORDERS = ['standard-1', 'standard-2', 'standard-3', 'standard-4', 'standard-5'];
const EXPRESS_ORDER = 'express-1';

for (const queueType of ['classic', 'quorum'] as const) {
  describe(`express orders and priorities (QUEUE_TYPE=${queueType})`, () => {
    const sut = useSystemUnderTest(`priority-${queueType}`);
    const config = { topology: { ...FAST_SETTINGS.topology, queueType } } as Partial<ServiceConfig>;
    let orderOnly: RunningSystem;
    let brokerMajor: number;

    beforeAll(async () => {
      // Only the order service: it declares the whole topology, and order.created waits in inventory.queue.
      orderOnly = await sut.start({ services: ['order'], config });
      brokerMajor = Number((await sut.vhost.api.overview()).rabbitmq_version.split('.')[0]);
    });

    it(
      queueType === 'classic'
        ? 'the express order placed last is reserved first'
        : 'on RabbitMQ 4+ the express order placed last is reserved first; on 3.x in arrival order',
      async () => {
        for (const orderId of STANDARD_ORDERS) {
          expect((await postOrder(`${orderOnly.baseUrl}`, { orderId, user: 'gayal', items: ['item1'] })).status).toBe(201);
        }
        // 201 means the broker confirmed order.created: all six are in inventory.queue before inventory starts.
        expect(
          (await postOrder(`${orderOnly.baseUrl}`, { orderId: EXPRESS_ORDER, user: 'gayal', items: ['item2'], express: true })).status,
        ).toBe(201);

        const inventory = await sut.start({ services: ['inventory'], config: { ...config, prefetch: 1 } });
        const reservations = inventory
          .runtime('inventory')
          .db.prepare<[], { order_id: string }>('SELECT order_id FROM reservations ORDER BY rowid');
        const reservedInOrder = await eventually(
          () => {
            const rows = reservations.all().map((row) => row.order_id);
            return rows.length === STANDARD_ORDERS.length + 1 && rows;
          },
          { what: 'all six orders reserved' },
        );

        if (queueType === 'quorum' && brokerMajor < 4) {
          expect(reservedInOrder, 'quorum queues on RabbitMQ 3.x ignore priorities').toEqual([...STANDARD_ORDERS, EXPRESS_ORDER]);
          return;
        }
        expect(reservedInOrder, '🚨 the express order (priority 5) should leave inventory.queue before the standard ones').toEqual([
          EXPRESS_ORDER,
          ...STANDARD_ORDERS,
        ]);
        const reservedLines = sut.logs.linesOf('inventory').filter((line) => line.startsWith('reserved '));
        expect(reservedLines[0]).toBe(`reserved 1 items for order ${EXPRESS_ORDER}`);
      },
    );
  });
}
