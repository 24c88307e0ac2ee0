// Least privilege with the audit log on a stream (AUDIT_STREAM=on, milestone 10): `npm run
// broker:setup` made with the same setting gives the audit service's user the rights on audit.stream
// (declare it, bind it to the audit fanout, read it) and nobody else any; the order flow fills the
// audit trail from the stream on those rights alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_NAMES } from '../../shared/messages/events.ts';
import { TRAIL_OF } from '../../shared/messages/order-trail.ts';
import { anchored, permissionsFor } from '../../shared/topology/permissions.ts';
import { AUDIT_STREAM, buildTopology } from '../../shared/topology/topology.ts';
import { removeBrokerUsers } from '../../solutions/broker-users/set-up-broker.ts';
import { identityFor, type BrokerUsersFile } from '../../solutions/broker-users/users-file.ts';
import { streamsGetDeadLetters } from '../../solutions/runtime/stream-readers.ts';
import { AuditStore } from '../../solutions/services/audit/audit-store.ts';
import type { RunningSystem } from '../../solutions/system.ts';
import { managementApi } from '../support/vhost.ts';
import { placeOrderWhenAccepted, waitForStatus } from './support/order-api.ts';
import { waitForAudit } from './support/service-state.ts';
import { setUpTestUsers } from './support/broker-users.ts';
import { FAST_SETTINGS, useSystemUnderTest } from './support/system-under-test.ts';

const STREAM_SETTINGS = { ...FAST_SETTINGS.topology!, auditStream: true };

describe('least privilege with the audit log on a stream', () => {
  const sut = useSystemUnderTest('least-privilege-stream');
  const admin = managementApi();
  let users: BrokerUsersFile;
  let system: RunningSystem;

  beforeAll(async () => {
    users = await setUpTestUsers(sut, admin.credentials, STREAM_SETTINGS);
    system = await sut.start({
      config: { topology: STREAM_SETTINGS },
      configFor: (service) => identityFor(users, service, sut.vhost.url),
    });
  });

  afterAll(async () => {
    if (users) await removeBrokerUsers(admin.credentials, users);
  });

  it('gives the rights on audit.stream to the audit service alone', () => {
    const topology = buildTopology(STREAM_SETTINGS);
    for (const service of SERVICE_NAMES) {
      const { configure, write, read } = permissionsFor(service, topology);
      const on = (patterns: string[]) => new RegExp(anchored(patterns) || '(?!)').test(AUDIT_STREAM.name);
      const expected = service === 'audit';
      expect([on(configure), on(write), on(read)], `🚨 ${service}: configure, write, read on ${AUDIT_STREAM.name}`).toEqual([
        expected,
        expected,
        expected,
      ]);
    }
  });

  it('fills the audit trail from the stream on those rights alone', async () => {
    const { rabbitmq_version: version } = await sut.vhost.api.overview();
    // On 3.x a dead-lettered event (delivery.confirmed) does not reach a stream (stream-readers.ts).
    const flow = streamsGetDeadLetters(version) ? TRAIL_OF.completed : TRAIL_OF.completed.filter((type) => type !== 'delivery.confirmed');
    const baseUrl = `${system.baseUrl}`;
    await placeOrderWhenAccepted(baseUrl, { orderId: 'lps-1', user: 'ines', items: ['item1'] });
    await waitForStatus(baseUrl, 'lps-1', 'completed', 20_000);
    const trail = await waitForAudit(new AuditStore(system.runtime('audit').db), 'lps-1', flow);
    expect(trail.map((entry) => entry.type).sort()).toEqual([...flow].sort());
    for (const service of SERVICE_NAMES) {
      expect(
        sut.logs.linesOf(service).filter((line) => line.includes('ACCESS_REFUSED')),
        `${service} was refused nothing`,
      ).toEqual([]);
    }
  });
});
