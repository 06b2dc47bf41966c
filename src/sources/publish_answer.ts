/**
 * The REST publish answer: in a cluster, 202 says the ids the events got
 * (the same on every instance); a target that cannot confirm now (a shared
 * log, a RabbitMQ publisher without its broker) answers 503 with
 * Retry-After, and nothing was promised (the publisher retries).
 *
 * @module
 */

import { errorMessage } from "../core/errors.ts";
import type { Flow, Outcome } from "../core/flows/flows.ts";
import { json } from "../core/http/http.ts";
import { LogUnavailableError } from "../cluster/unavailable.ts";
import { UnavailableError } from "../core/flows/unavailable.ts";

/** The body of a 202: `delivered`, plus `id` (`ids` for several flows) in a cluster. */
export function acceptedBody(
  outcome: Outcome & { ok: true },
  flows: readonly Flow[],
): Record<string, unknown> {
  // Without a shared log the answer stays as it always was.
  const published = outcome.published > 0
    ? { published: outcome.published }
    : {};
  if (!flows.some((f) => f.to.shared)) {
    return { delivered: outcome.delivered, ...published };
  }
  return outcome.ids.length === 1
    ? { delivered: outcome.delivered, ...published, id: outcome.ids[0] }
    : { delivered: outcome.delivered, ...published, ids: outcome.ids };
}

/** The 503 for an event a target could not confirm; undefined for other errors. */
export function unavailableAnswer(error: unknown): Response | undefined {
  if (!(error instanceof UnavailableError)) return undefined;
  const reason = error instanceof LogUnavailableError
    ? `event log unavailable: ${errorMessage(error)}`
    : errorMessage(error);
  return json(503, { error: reason }, {
    "retry-after": String(error.retryAfterSeconds),
  });
}
