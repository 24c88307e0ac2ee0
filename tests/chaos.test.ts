// The short fault suite (npm run chaos, scripts/chaos/): the same code on a throwaway RabbitMQ node
// of its own, never the shared broker, with 60 orders of the usual mix and three faults during the
// load: a broker restart, kill -9 of the inventory service with work in flight, every connection
// closed; 5% of handler calls fail transiently first. Every order must reach its planned outcome,
// nothing may be applied twice and the stock must add up. About a minute and a half on two cores.
import { describe, expect, it } from 'vitest';
import { rabbitmqServerInstalled } from '../shared/broker/throwaway-node.ts';
import { createMemoryLogger } from '../shared/log.ts';
import { runChaos } from '../scripts/chaos/run-chaos.ts';

const installed = await rabbitmqServerInstalled();
const title = installed
  ? 'the short fault suite'
  : 'the short fault suite: SKIPPED, it starts a throwaway node and rabbitmq-server is not installed';

describe.skipIf(!installed)(title, () => {
  it(
    '60 orders through a broker restart, kill -9 of inventory and every connection closed: all right, none stuck, none twice, stock consistent',
    { timeout: 240_000 },
    async () => {
      const log = createMemoryLogger('chaos');
      const result = await runChaos({
        orders: 60,
        faults: [{ kind: 'broker-restart' }, { kind: 'kill-service', service: 'inventory' }, { kind: 'close-connections' }],
        cluster: false,
        failureRate: 0.05,
        deadlineSeconds: 90,
        seed: 7,
        label: 'test',
        log,
      });
      const { verdict } = result;
      const why = `${log.lines.join('\n')}\n${JSON.stringify({ ...verdict, stock: undefined }, null, 1).slice(0, 4000)}`;
      expect(verdict.accepted, why).toBe(60);
      expect(verdict.lost, why).toEqual([]);
      expect(verdict.stuck, why).toEqual([]);
      expect(verdict.wrong, why).toEqual([]);
      expect(verdict.appliedTwice, why).toEqual([]);
      expect(verdict.missingAudit, why).toEqual([]);
      expect(verdict.missingNotifications, why).toEqual([]);
      expect(verdict.stock.consistent, JSON.stringify(verdict.stock)).toBe(true);
      expect(verdict.stock.reservedLeft).toBe(0);
      expect(verdict.outcomes).toEqual({ completed: 54, rejected: 3, failed: 3 });
      expect(result.injectedFailures, 'CHAOS_FAILURE_RATE reached the services').toBeGreaterThan(0);
      // Each fault hit while orders were in flight, and the system got over each.
      for (const fault of result.faults) {
        expect(fault.inFlight.orders + fault.inFlight.posts, fault.fault).toBeGreaterThan(0);
        expect(fault.consumersBackMs, `${fault.fault}: consumers back`).toBeDefined();
      }
      expect(result.passed).toBe(true);
    },
  );
});
