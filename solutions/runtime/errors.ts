// Failures a domain handler can signal, and how the runtime treats them.

/**
 * The message is fine but arrived too early (for example shipping.delivered for an order not yet
 * shipped, which competing consumers or a retry can cause). Retrying later will succeed.
 */
export class NotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotReadyError';
  }
}

/**
 * Retrying cannot help: the message is valid but this queue should never have received it (an event
 * type the service does not handle). It is parked in the dead-letter queue at once.
 */
export class UnprocessableMessageError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'UnprocessableMessageError';
  }
}
