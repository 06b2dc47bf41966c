/**
 * The reconnect loop every user of the broker runs: open a session, hold
 * it until it is lost, then try again after a backoff that doubles (with
 * jitter) from the connector's `reconnect_delay`, for as long as the
 * process runs or until the user gives up.
 *
 * @module
 */

import { createBackoff } from "./backoff.ts";
import type { Pause } from "./pause.ts";

/** A session: whatever the user opened, and the promise of its end. */
export interface BrokerSession {
  /** Resolves with the reason once the session is gone. */
  readonly lost: Promise<string>;
}

/** What the loop asks of its user. */
export interface ReconnectHooks<S extends BrokerSession> {
  /** Opens a session (connections, declarations, consumers). */
  open(): Promise<S>;
  /** The session is up (log it). */
  up(session: S): void;
  /** The session ended with `reason` (clean up, log it unless stopping). */
  down(session: S, reason: string): void;
  /**
   * An attempt failed: the reason to log before retrying, or undefined to
   * end the loop (a fatal error, too many attempts, stopping).
   */
  failed(error: unknown, failures: number): string | undefined;
  /** The loop waits `delayMs` before attempt `attempt` (log it). */
  retrying(delayMs: number, attempt: number, reason: string): void;
}

/** Runs until `stopped()` or a hook ends it. */
export async function reconnectLoop<S extends BrokerSession>(
  hooks: ReconnectHooks<S>,
  options: {
    readonly firstDelayMs: number;
    readonly pause: Pause;
    readonly stopped: () => boolean;
  },
): Promise<void> {
  // Counts every retry since the last good session, so the delay doubles
  // from the second retry on.
  const backoff = createBackoff(options.firstDelayMs);
  let failures = 0;
  while (!options.stopped()) {
    let reason: string | undefined;
    try {
      const session = await hooks.open();
      failures = 0;
      backoff.reset();
      hooks.up(session);
      reason = await session.lost;
      hooks.down(session, reason);
    } catch (error) {
      reason = hooks.failed(error, ++failures);
      if (reason === undefined) return;
    }
    if (options.stopped()) return;
    const delay = backoff.next();
    hooks.retrying(delay, failures + 1, reason);
    await options.pause.sleep(delay);
  }
}
