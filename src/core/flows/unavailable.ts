/**
 * The error a flow target throws when it cannot take an event now: a
 * cluster's shared log away, a RabbitMQ publisher without its broker or
 * without a confirm. Sources map it to "try again later": REST answers 503
 * with Retry-After, RabbitMQ input is requeued. Nothing was promised.
 *
 * @module
 */

/** The target cannot confirm the event now; the sender retries. */
export class UnavailableError extends Error {
  override name = "UnavailableError";
  /** Seconds after which a retry has a fair chance. */
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds = 5) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
