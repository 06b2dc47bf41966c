/**
 * Listeners that cannot accept connections right now (out of file
 * descriptors: EMFILE, ENFILE), for the log and for /readyz: a load
 * balancer should send new clients elsewhere until they can. The runtime
 * keeps retrying (src/runtime/deno_accept.ts); this only tells.
 *
 * @module
 */

import { errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";

/** A flood of failed accepts logs one line per listener per this. */
const LOG_EVERY_MS = 1_000;

/** What the app tells of its listeners' accepting. */
export interface Accepting {
  /** An accept of `listener` (bound at `address`) failed. */
  failed(listener: string, address: string, error: unknown): void;
  /** `listener` accepts again. */
  recovered(listener: string, address: string): void;
  /** `listener` stopped accepting for good: not ready until a restart. */
  ended(listener: string, address: string, error: unknown): void;
  /** The reason by listener name, of each listener failing now. */
  readonly failing: ReadonlyMap<string, string>;
}

/** Tells `log` of failures, at most once a second per listener. */
export function createAccepting(
  log: Logger,
  now: () => number = Date.now,
): Accepting {
  const failing = new Map<string, string>();
  /** Per listener: when its last line was written, failures since. */
  const logged = new Map<string, { at: number; unlogged: number }>();
  return {
    failing,
    failed(listener, address, error) {
      const reason = errorMessage(error);
      failing.set(listener, reason);
      const last = logged.get(listener);
      const t = now();
      if (last !== undefined && t - last.at < LOG_EVERY_MS) {
        last.unlogged++;
        return;
      }
      logged.set(listener, { at: t, unlogged: 0 });
      log.error("cannot accept connections; retrying", {
        connector: listener,
        address,
        reason,
        // Failures the previous window did not log, so the counts add up.
        more: last?.unlogged || undefined,
      });
    },
    ended(listener, address, error) {
      const reason = `stopped accepting until restarted: ${
        errorMessage(error)
      }`;
      failing.set(listener, reason);
      log.error("cannot accept connections any more; restart hypha", {
        connector: listener,
        address,
        reason: errorMessage(error),
      });
    },
    recovered(listener, address) {
      if (!failing.delete(listener)) return;
      const last = logged.get(listener);
      logged.delete(listener);
      log.info("accepting connections again", {
        connector: listener,
        address,
        more: last?.unlogged || undefined,
      });
    },
  };
}
