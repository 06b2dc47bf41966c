/**
 * The error a shared event log throws when it cannot take an event now
 * (broker unreachable, publish not confirmed): an UnavailableError, so
 * sources answer it as for any target (503 with Retry-After, requeue).
 *
 * @module
 */

import { UnavailableError } from "../core/flows/unavailable.ts";

/** The log cannot confirm the append; nothing was promised to anyone. */
export class LogUnavailableError extends UnavailableError {
  override name = "LogUnavailableError";
}
