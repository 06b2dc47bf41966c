/**
 * The `ready` line, told the way /readyz answers: once at start (or a
 * warning with what is not ready yet; subscribers are served meanwhile),
 * and again at every change, so an operator reading the log sees a broker
 * reconnect or a detached cluster log come and go.
 *
 * @module
 */

import type { Logger } from "../core/log.ts";
import type { Readiness } from "./readiness.ts";

/** How often readiness is looked at after start. */
const EVERY_MS = 1_000;

/** Starts telling; returns the function that stops it. */
export function logReadiness(
  readiness: () => Readiness,
  log: Logger,
): () => void {
  let ready = tell(readiness(), log, undefined);
  const timer = setInterval(() => {
    ready = tell(readiness(), log, ready);
  }, EVERY_MS);
  return () => clearInterval(timer);
}

/** Logs `now` if it differs from `before` (undefined: the first look). */
function tell(
  now: Readiness,
  log: Logger,
  before: boolean | undefined,
): boolean {
  if (now.ready === before) return now.ready;
  if (now.ready) log.info("ready");
  else {
    const waiting = now.failing.join("; ");
    if (before === undefined) {
      log.warn("not ready yet; subscribers are served meanwhile", { waiting });
    } else log.warn("not ready", { waiting });
  }
  return now.ready;
}
