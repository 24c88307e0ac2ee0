// AUDIT_STREAM=on (milestone 10): the audit log is kept in audit.stream instead of audit.queue. The
// audit service fills its trail from the stream; a new reader catches up from 'first' without anyone
// publishing again; and an audit service that was down reads on from the offset after the last one
// it recorded, neither skipping nor repeating.
import { connect } from 'amqplib';
import { beforeAll, describe, expect, it } from 'vitest';
import { TRAIL_OF } from '../../shared/messages/order-trail.ts';
import { AUDIT_STREAM, QUEUES } from '../../shared/topology/topology.ts';
import { streams } from '../../solutions/layers/10-streams.ts';
import { AuditStore } from '../../solutions/services/audit/audit-store.ts';
import { storedOffset, streamsGetDeadLetters } from '../../solutions/runtime/stream-readers.ts';
import type { RunningSystem } from '../../solutions/system.ts';
import { eventually } from '../support/eventually.ts';
import { postOrder, SEED_ORDER, waitForStatus } from './support/order-api.ts';
import { waitForAudit } from './support/service-state.ts';
import { FAST_SETTINGS, useSystemUnderTest } from './support/system-under-test.ts';

/**
 * The trail an order leaves on the stream: all of it on RabbitMQ 4, and on 3.x all but
 * delivery.confirmed, which comes out of the delivery-delay queue dead-lettered, and a 3.x broker
 * does not dead-letter into a stream (stream-readers.ts, streamsGetDeadLetters).
 */
let FLOW: string[] = TRAIL_OF.completed;
let deadLettersReachStreams = true;
const ON = { topology: { ...FAST_SETTINGS.topology!, auditStream: true } };

describe('the audit log on a stream (AUDIT_STREAM=on)', () => {
  const sut = useSystemUnderTest('audit-stream');
  let system: RunningSystem;

  beforeAll(async () => {
    const { rabbitmq_version: version } = await sut.vhost.api.overview();
    deadLettersReachStreams = streamsGetDeadLetters(version);
    if (!deadLettersReachStreams) FLOW = TRAIL_OF.completed.filter((type) => type !== 'delivery.confirmed');
    system = await sut.start({ config: ON });
  });

  const queueInfo = (name: string) =>
    sut.vhost.api.request<{ type: string; arguments: Record<string, unknown>; messages?: number }>(
      'GET',
      `/queues/${encodeURIComponent(sut.vhost.vhost)}/${encodeURIComponent(name)}`,
    );

  it('fills the trail of an order from the stream, and audit.queue is not there', async () => {
    expect((await postOrder(`${system.baseUrl}`, SEED_ORDER)).status).toBe(201);
    await waitForStatus(`${system.baseUrl}`, '123', 'completed');
    const trail = await waitForAudit(new AuditStore(system.runtime('audit').db), '123', FLOW);
    expect(trail.map((entry) => entry.type).sort()).toEqual([...FLOW].sort());
    const warned = sut.logs.linesOf('audit').some((line) => line.includes('does not deliver dead-lettered messages'));
    expect(warned, '🚨 on RabbitMQ 3.x the audit service says its trails will lack delivery.confirmed').toBe(!deadLettersReachStreams);

    const info = await queueInfo(AUDIT_STREAM.name);
    expect(info.type).toBe('stream');
    expect(info.arguments['x-max-length-bytes']).toBe(AUDIT_STREAM.retention.maxBytes);
    await expect(queueInfo(QUEUES.audit), '🚨 audit.queue is left out with the stream').rejects.toThrow(/404|Not Found|not found/i);
  });

  it('lets a new reader catch up from the first message, without anyone publishing again', async () => {
    const audited = new AuditStore(system.runtime('audit').db).forOrder('123').map((entry) => entry.messageId);
    const connection = await connect(sut.vhost.url);
    try {
      const seen: string[] = [];
      const reader = await streams.read(
        await connection.createChannel(),
        AUDIT_STREAM.name,
        (message) => void seen.push(String(message.properties.messageId)),
        { from: 'first', prefetch: 20 },
      );
      await eventually(() => audited.every((id) => seen.includes(id)), { what: "the new reader to get every one of order 123's events" });
      await reader.stop();
    } finally {
      await connection.close();
    }
  });

  it('reads on where it left off after a restart: the next order is recorded, nothing twice', async () => {
    const db = system.runtime('audit').db;
    const before = await eventually(() => storedOffset(db, AUDIT_STREAM.name), { what: 'an offset stored' });
    expect(before).toBeGreaterThanOrEqual(FLOW.length);
    await system.runtime('audit').stop();
    await system.stop(); // the others too: the audit service comes back on its own below

    const rest = await sut.start({ config: ON, services: ['order', 'inventory', 'payment', 'shipping', 'notification'] });
    expect((await postOrder(`${rest.baseUrl}`, { ...SEED_ORDER, orderId: '124' })).status).toBe(201);
    await waitForStatus(`${rest.baseUrl}`, '124', 'completed');

    const audit = await sut.start({ config: ON, services: ['audit'] });
    const store = new AuditStore(audit.runtime('audit').db);
    await waitForAudit(store, '124', FLOW);
    expect(sut.logs.linesOf('audit').some((line) => line.includes(`reading ${AUDIT_STREAM.name} from offset ${before}`))).toBe(true);
    expect(store.forOrder('123').length, '🚨 order 123 recorded once, as before').toBe(FLOW.length);
    await rest.stop();
  });
});
