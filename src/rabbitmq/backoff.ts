/**
 * Reconnect delays: exponential from a first delay up to a ceiling, with
 * jitter, so that many hypha instances cut off by one broker restart do not
 * all knock on its door in the same second.
 *
 * @module
 */

/** The longest a source waits between two connection attempts. */
export const MAX_RECONNECT_DELAY_MS = 60_000;

/** How much a delay may vary either way (0.2 = ±20 %). */
const JITTER = 0.2;

/**
 * The delay before reconnect attempt `attempt` (1 for the first retry):
 * `firstMs`, then doubling, capped at 60 s (or at `firstMs` when that is
 * larger), each varied by ±20 % with `random` (a number in [0, 1)).
 */
export function reconnectDelay(
  attempt: number,
  firstMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.max(firstMs, MAX_RECONNECT_DELAY_MS);
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const base = Math.min(ceiling, firstMs * 2 ** exponent);
  const jittered = base * (1 - JITTER + 2 * JITTER * random());
  return Math.round(Math.min(ceiling, jittered));
}

/** The delays between reconnect attempts since the last good connection. */
export interface Backoff {
  /** The delay before the next attempt: the first, then doubling. */
  next(): number;
  /** A connection held: the next loss starts again from the first delay. */
  reset(): void;
}

/** Creates a backoff that starts at `firstMs` (see {@link reconnectDelay}). */
export function createBackoff(
  firstMs: number,
  random: () => number = Math.random,
): Backoff {
  let attempt = 0;
  return {
    next: () => reconnectDelay(++attempt, firstMs, random),
    reset: () => attempt = 0,
  };
}
