/**
 * The REST publish answer when the events go to a cluster's shared log:
 * 202 says the ids the events got (the same on every instance); a log that
 * cannot confirm the append now answers 503 with Retry-After, and nothing
 * was promised (the publisher retries).
 *
 * @module
 */

import { errorMessage } from "../core/errors.ts";
import type { Flow, Outcome } from "../core/flows.ts";
import { json } from "../core/http.ts";
import { LogUnavailableError } from "../cluster/unavailable.ts";

/** The body of a 202: `delivered`, plus `id` (`ids` for several flows) in a cluster. */
export function acceptedBody(
  outcome: Outcome & { ok: true },
  flows: readonly Flow[],
): Record<string, unknown> {
  // Without a shared log the answer stays as it always was.
  if (!flows.some((f) => f.hub.shared)) return { delivered: outcome.delivered };
  return outcome.ids.length === 1
    ? { delivered: outcome.delivered, id: outcome.ids[0] }
    : { delivered: outcome.delivered, ids: outcome.ids };
}

/** The 503 for an append the log could not confirm; undefined for other errors. */
export function unavailableAnswer(error: unknown): Response | undefined {
  if (!(error instanceof LogUnavailableError)) return undefined;
  return json(503, { error: `event log unavailable: ${errorMessage(error)}` }, {
    "retry-after": String(error.retryAfterSeconds),
  });
}
