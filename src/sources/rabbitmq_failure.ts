/**
 * A failed connect-declare-consume attempt, told apart: a network blip is
 * only retried (the source logs `retrying`), but a queue or exchange the
 * broker refuses, or a TLS certificate problem, needs someone to act, so it
 * is logged as an ERROR that says what and what to do.
 *
 * @module
 */

import { errorMessage } from "../core/errors.ts";
import type { Fields, Logger } from "../core/log.ts";
import { tlsAdvice } from "../rabbitmq/tls.ts";
import { TopologyError } from "./rabbitmq_topology.ts";

/** Logs an ERROR when `error` needs action; returns its reason. */
export function reportFailure(
  log: Logger,
  where: Fields,
  tls: boolean,
  error: unknown,
): string {
  const reason = errorMessage(error);
  if (error instanceof TopologyError) {
    log.error(error.summary, {
      ...where,
      [error.what]: error.entity,
      reason: error.reason,
    });
    return reason;
  }
  const advice = tls ? tlsAdvice(reason) : undefined;
  if (advice !== undefined) {
    log.error("TLS handshake with the broker failed", {
      ...where,
      reason,
      advice,
    });
  }
  return reason;
}
