/**
 * What an auth callback reports: each call with its outcome and latency,
 * where each subscriber's answer came from, and subscribers turned away
 * because `max_inflight` calls were in flight. Metrics and the log listen;
 * the authorizer does not know who does.
 *
 * @module
 */

import type { Logger } from "../core/log.ts";
import { rateLimited } from "../core/rate_limited.ts";
import type { Failure } from "./callback.ts";
import type { Lookup } from "./shared_cache.ts";

/** How one call ended. */
export type CallOutcome = "granted" | "refused" | Failure;

/** What a listener hears; every method is optional. */
export interface CallbackListener {
  /** One call to the app ended; `detail` says why it failed. */
  called?(outcome: CallOutcome, seconds: number, detail?: string): void;
  /** One subscriber's answer was found. */
  looked?(lookup: Lookup): void;
  /** One subscriber got 503: no call could start within the timeout. */
  busy?(): void;
}

/** The callback's side of the listeners. */
export interface CallbackProbe extends Required<CallbackListener> {
  listen(listener: CallbackListener): void;
}

/** Creates a probe with no listener (reporting costs a loop over none). */
export function createCallbackProbe(): CallbackProbe {
  const listeners: CallbackListener[] = [];
  return {
    listen: (listener) => void listeners.push(listener),
    called: (outcome, seconds, detail) => {
      for (const l of listeners) l.called?.(outcome, seconds, detail);
    },
    looked: (lookup) => {
      for (const l of listeners) l.looked?.(lookup);
    },
    busy: () => {
      for (const l of listeners) l.busy?.();
    },
  };
}

/** Calls that fail closed: the subscribers get 503. */
const FAILURES: ReadonlySet<CallOutcome> = new Set([
  "unreachable",
  "timeout",
  "status",
  "malformed",
]);

/**
 * Logs failed calls and busy refusals of connector `connector`, at most
 * one line per kind each 10 s (then a count of the rest). A line holds the
 * failure kind and hypha's own words, never a forwarded header. Returns
 * the flush to call at stop (the counts of open windows).
 */
export function logCallbackTrouble(
  connector: string,
  probe: CallbackProbe,
  log: Logger,
  maxInflight: number,
): () => void {
  const limited = rateLimited(10_000);
  probe.listen({
    called: (outcome, _seconds, detail) => {
      if (!FAILURES.has(outcome)) return;
      limited(
        outcome,
        (suppressed) =>
          log.warn("auth callback failed; subscribers get 503", {
            connector,
            failure: outcome,
            detail,
            count: suppressed || undefined,
          }),
      );
    },
    busy: () =>
      limited("busy", (suppressed) =>
        log.warn(
          "auth callback busy: max_inflight calls in flight; subscribers get 503",
          {
            connector,
            max_inflight: maxInflight,
            count: suppressed || undefined,
          },
        )),
  });
  return limited.flush;
}
