// What happens to one delivery a service consumes: decoded by layer 1, refused when forged (under
// least privilege), handed to the service's handler exactly once (layer 5's processOnce, in a commit
// group with the deliveries of the same turn), and on failure parked or retried through layer 6.
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { MalformedMessageError, type Layers, type ProcessedMessages } from '../../shared/layers/index.ts';
import { type DomainEvent, newEvent, type ServiceName } from '../../shared/messages/events.ts';
import { describeError, type Logger } from '../../shared/log.ts';
import { PUBLISHERS } from '../../shared/topology/topology.ts';
import type { QueueSpec } from '../../shared/topology/types.ts';
import { eventTypeLabel, type ServiceMetrics } from '../observability/service-metrics.ts';
import { ORDER_ID_ATTRIBUTE, ServiceTracing, SpanKind, type TraceContext } from '../observability/tracing.ts';
import { CommitGroup } from './commit-group.ts';
import { processedMessagesFor, type ServiceDatabase } from './database.ts';
import { UnprocessableMessageError } from './errors.ts';
import type { Outbox } from './outbox.ts';
import type { ServiceConfig } from './service-config.ts';
import type { ConsumerDefinition, EmitOptions, HandlerContext } from './service-definition.ts';

/** What of its service a delivery needs (the ServiceRuntime is one). */
export interface DeliveryHost {
  readonly name: ServiceName;
  readonly config: ServiceConfig;
  readonly layers: Layers;
  readonly log: Logger;
  readonly db: ServiceDatabase;
  readonly outbox: Outbox;
  readonly metrics: ServiceMetrics;
  readonly tracing: ServiceTracing;
  enqueue(event: DomainEvent, options?: EmitOptions): number;
}

export class Deliveries {
  /** Deliveries handled in the same turn share one transaction (commit-group.ts). */
  private readonly commits: CommitGroup;

  constructor(private readonly host: DeliveryHost) {
    this.commits = new CommitGroup(host.db, () => host.outbox.nudgeIfAdded());
  }

  /** Runs the consumer's handler for one delivery, once (processOnce), in a commit group; throws what failed. */
  async handle(consumer: ConsumerDefinition, spec: QueueSpec, message: ConsumeMessage): Promise<void> {
    const labels = { queue: spec.name, event_type: eventTypeLabel(message.properties.type) };
    const timer = this.host.metrics.handlerSeconds.startTimer(labels);
    // A consumer span continuing the trace the message came with (ended once the delivery is settled here or failed).
    const { span, context: trace } = this.host.tracing.start(
      `process ${labels.event_type === 'other' ? spec.name : labels.event_type}`,
      SpanKind.CONSUMER,
      this.host.tracing.extract(message.properties.headers),
      {
        'messaging.system': 'rabbitmq',
        'messaging.destination.name': spec.name,
        'messaging.message.id': String(message.properties.messageId ?? ''),
        ...(typeof message.properties.correlationId === 'string' ? { [ORDER_ID_ATTRIBUTE]: message.properties.correlationId } : {}),
        ...(message.fields.redelivered ? { 'messaging.rabbitmq.redelivered': true } : {}),
      },
    );
    try {
      const event = this.host.layers.codec.decode(message);
      span.setAttribute(ORDER_ID_ATTRIBUTE, event.orderId);
      this.refuseForged(event, message);
      const handler = consumer.handlers[event.type] as ((event: DomainEvent, context: HandlerContext) => void) | undefined;
      if (!handler) throw new UnprocessableMessageError(`${spec.name} has no handler for ${event.type} events`);
      const context = this.handlerContext(event, trace);
      const applied = await this.commits.run(() =>
        this.host.layers.acks.processOnce(this.processedMessages(spec.name), event.messageId, () => handler(event, context)),
      );
      timer();
      this.host.metrics.consumed.inc(labels);
      if (!applied) {
        span.setAttribute('duplicate', true);
        this.host.metrics.duplicates.inc(labels);
        this.host.log.info(`skipped ${event.type} ${event.messageId} for order ${event.orderId}: already processed`);
      }
    } catch (error) {
      ServiceTracing.fail(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  /** Under least privilege, an event must come from a user of one of its publishers (topology.ts PUBLISHERS). */
  private refuseForged(event: DomainEvent, message: ConsumeMessage): void {
    const users = this.host.config.brokerUsers;
    if (!users) return;
    const allowed = PUBLISHERS[event.type].map((publisher) => users[publisher.service]);
    const userId: unknown = message.properties.userId;
    if (typeof userId === 'string' && allowed.includes(userId)) return;
    const from = typeof userId === 'string' ? `user ${userId}` : 'a publisher that set no user_id';
    throw new UnprocessableMessageError(`refused as forged: ${event.type} came from ${from}; only ${allowed.join(' or ')} may publish it`);
  }

  private readonly processedByQueue = new Map<string, ProcessedMessages>();

  /** One record per queue for the life of the service (its statements are prepared once). */
  private processedMessages(queue: string): ProcessedMessages {
    let record = this.processedByQueue.get(queue);
    if (!record) this.processedByQueue.set(queue, (record = processedMessagesFor(this.host.db, queue)));
    return record;
  }

  private handlerContext(cause: DomainEvent, trace: TraceContext): HandlerContext {
    return {
      db: this.host.db,
      log: this.host.log,
      config: this.host.config,
      emit: (type, payload, options) => {
        const event = newEvent(type, { orderId: cause.orderId, source: this.host.name, express: cause.express, payload });
        this.host.enqueue(event as DomainEvent, { ...options, trace });
      },
      resend: () => {
        const count = this.host.outbox.resend(cause.orderId);
        this.host.metrics.redriven.inc(count);
        return count;
      },
    };
  }

  /** Bad messages go straight to the dead-letter queue; other failures are retried by layer 6's policy. */
  async handleFailure(channel: ConfirmChannel, message: ConsumeMessage, error: unknown, spec: QueueSpec): Promise<void> {
    const what = `${message.properties.type ?? 'message'} ${message.properties.messageId ?? ''}`.trim();
    const labels = { queue: spec.name, event_type: eventTypeLabel(message.properties.type) };
    try {
      if (error instanceof MalformedMessageError || error instanceof UnprocessableMessageError) {
        await this.host.layers.deadLetters.park(channel, message, error.reason, spec);
        this.host.metrics.parked.inc(labels);
        this.host.log.warn(`parked ${what} from ${spec.name} in the dead-letter queue: ${error.reason}`);
        return;
      }
      const attempt = this.host.layers.deadLetters.attemptsSoFar(message, spec) + 1;
      const outcome = await this.host.layers.deadLetters.handleFailure(channel, message, error, spec);
      (outcome === 'retrying' ? this.host.metrics.retried : this.host.metrics.parked).inc(labels);
      this.host.log.warn(
        `${what} failed on attempt ${attempt} (${describeError(error)}); ${outcome === 'retrying' ? 'will retry' : 'parked in the dead-letter queue'}`,
      );
    } catch (settleError) {
      // The channel died under us: the broker redelivers the message to the next consumer. (Layer 6
      // may have settled it before throwing, so it is not settled again here: a second ack or nack
      // of one delivery tag would close the channel.)
      this.host.log.warn(`could not settle ${what} after a failure: ${describeError(settleError)}`);
    }
  }
}
