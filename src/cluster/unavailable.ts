/**
 * The error a shared event log throws when it cannot take an event now
 * (broker unreachable, publish not confirmed). Sources map it to "try again
 * later": REST answers 503 with Retry-After, RabbitMQ input is requeued.
 *
 * @module
 */

/** The log cannot confirm the append; nothing was promised to anyone. */
export class LogUnavailableError extends Error {
  override name = "LogUnavailableError";
  /** Seconds after which a retry has a fair chance. */
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds = 5) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
