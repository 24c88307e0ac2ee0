// One connection to the broker that survives connection loss and broker restarts.
// amqplib 2's opt-in recovery reconnects the connection with backoff; channels, topology and
// consumers are ours to rebuild, so `setup` runs again after every reconnect and does all three.
import amqp, { type ChannelModel, type ConfirmChannel, type RecoveringChannelModel } from 'amqplib';
import { describeError, type Logger } from '../../shared/log.ts';
import { BrokerNodes } from './broker-nodes.ts';

export interface BrokerSessionOptions {
  url: string;
  /** Other nodes of the same cluster, tried in turn when `url`'s node does not answer (broker-nodes.ts). */
  failoverUrls?: string[];
  /** Shown in the management UI's connection list, and used by tests to find and close it. */
  connectionName: string;
  log: Logger;
  /** Opens channels, declares topology and starts consumers on a fresh connection. Throwing makes it reconnect. */
  setup(connection: ChannelModel, session: BrokerSession): Promise<void>;
  /** Called after a lost connection was re-established (and set up again). */
  onReconnect?(): void;
  /** Called when the connection is lost: consumers and channels of the old connection are gone. */
  onDisconnect?(error: Error): void;
  /** Attempts before the first successful connection; after that it never gives up. */
  initialRetries?: number;
  /** A setup error that retrying cannot cure (an unwritten exercise): fail the first connect at once. */
  isFatal?(error: unknown): boolean;
}

export class BrokerSession {
  private current: ChannelModel | undefined;
  private closing = false;
  private everConnected = false;

  private constructor(
    private readonly recovering: RecoveringChannelModel,
    private readonly log: Logger,
  ) {}

  static async connect(options: BrokerSessionOptions): Promise<BrokerSession> {
    const { log } = options;
    let session: BrokerSession | undefined;
    let fatal: unknown;
    const nodes = new BrokerNodes([options.url, ...(options.failoverUrls ?? [])]);
    const recovering = await amqp.connect(nodes.address, {
      clientProperties: { connection_name: options.connectionName },
      // Without it amqplib leaves Nagle's algorithm on: a small frame (a publish, an ack) written
      // while an earlier segment is unacknowledged waits for the peer's delayed ACK, up to 40 ms.
      noDelay: true,
      recovery: {
        initialDelay: 200,
        maxDelay: 5000,
        initialMaxRetries: options.initialRetries ?? 10,
        maxRetries: Infinity,
        waitForConnect: false,
        // Runs after the first connect and every reconnect, before the connection counts as up.
        // (amqplib defers the first attempt, so `session` is assigned by the time this runs.)
        setup: async (connection: ChannelModel) => {
          if (!session) throw new Error('broker session not ready');
          session.current = connection;
          try {
            await options.setup(connection, session);
          } catch (error) {
            if (!session.everConnected && options.isFatal?.(error)) {
              fatal = error;
              void session.close();
            }
            throw error;
          }
        },
      },
    });
    session = new BrokerSession(recovering, log);
    recovering.on('connect', (connection: ChannelModel) => {
      session.current = connection;
      if (session.everConnected) options.onReconnect?.();
      session.everConnected = true;
      log.info(`connected to ${nodes.current()}`);
    });
    recovering.on('disconnect', (error: Error) => {
      session.current = undefined;
      if (session.closing) return;
      nodes.advance();
      log.warn(`lost the broker connection (${describeError(error)}); reconnecting${nodes.count > 1 ? ` to ${nodes.current()}` : ''}`);
      options.onDisconnect?.(error);
    });
    recovering.on('connect-failed', (error: Error) => {
      log.warn(`could not connect to ${nodes.current()} or set up: ${describeError(error)}`);
      nodes.advance();
    });
    recovering.on('reconnect-scheduled', ({ attempt, delay }: { attempt: number; delay: number }) => {
      log.info(`reconnect attempt ${attempt} in ${delay} ms`);
    });
    recovering.on('reconnect-failed', (error: Error) => log.error('gave up connecting to the broker', error));
    // Without these listeners a connection-level error would crash the process.
    recovering.on('error', (error: Error) => log.warn(`connection error: ${describeError(error)}`));
    recovering.on('handler-error', (error: Error, event: string) => log.error(`a '${event}' listener threw`, error));
    recovering.on('blocked', (reason: string) => log.warn(`the broker blocked publishing: ${reason}`));
    recovering.on('unblocked', () => log.info('the broker unblocked publishing'));
    await recovering.waitForConnect().catch((error: unknown) => {
      throw fatal ?? error;
    });
    return session;
  }

  isConnected(): boolean {
    return this.current !== undefined && !this.closing;
  }

  /**
   * A confirm channel whose errors are handled. A server-closed channel (a protocol error such as
   * an unknown delivery tag) takes its consumer with it, so it restarts the whole session.
   */
  async openChannel(connection: ChannelModel, purpose: string): Promise<ConfirmChannel> {
    const channel = await connection.createConfirmChannel();
    channel.on('error', (error: Error) => {
      this.log.warn(`${purpose} channel closed by the broker: ${describeError(error)}`);
      if (this.current === connection) this.restart(`${purpose} channel failed`);
    });
    channel.on('handler-error', (error: Error, event: string) => this.log.error(`${purpose} channel '${event}' listener threw`, error));
    return channel;
  }

  /** Drops the current connection so recovery reconnects and runs setup again. */
  restart(reason: string): void {
    const connection = this.current;
    if (!connection || this.closing) return;
    this.log.warn(`restarting the broker session: ${reason}`);
    connection.close().catch(() => {});
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.recovering.close().catch(() => {});
  }
}
