/**
 * The startup grace of a broker source: after a crash, subscribers come
 * back after their `retry` while the queue holds what was published
 * meanwhile. A source that consumed at once would route that backlog
 * before anyone is back, and an in-memory log cannot replay across a
 * restart. So a source whose queue holds messages when it first connects
 * waits until the grace is over; an empty queue is consumed at once.
 *
 * @module
 */

import type { Config } from "../config/schema.ts";
import type { Logger } from "../core/log.ts";

/** Added to the largest `retry`: the restart itself and the clients' jitter. */
const SLACK_MS = 2_000;

/** A source's hold: until when, and whether it is holding now. */
export interface StartupHold {
  /** Ms since the epoch; nothing is held after it. */
  readonly until: number;
  /** True while a backlog waits (readiness accepts that). */
  active: boolean;
  /** Waits out the grace if `messages` are queued and it is not over. */
  wait(messages: number): Promise<void>;
}

/**
 * The grace of source `name`: `service.startup_grace` when set, else the
 * largest `retry` of the SSE connectors its flows reach without a cluster
 * store, plus SLACK_MS; 0 when every one of them has a cluster store (the
 * stream replays across restarts).
 */
export function startupGrace(config: Config, name: string): number {
  let retry = -1;
  for (const f of Object.values(config.flow)) {
    const to = config.connector[f.to.connector];
    if (f.from.connector !== name || to?.type !== "sse") continue;
    if (to.history.store === undefined) retry = Math.max(retry, to.retry);
  }
  if (retry < 0) return 0;
  return config.service.startup_grace ?? retry + SLACK_MS;
}

/** A hold of `ms` from now for source `connector`. */
export function createStartupHold(
  ms: number,
  log: Logger,
  connector: string,
): StartupHold {
  const hold: StartupHold = {
    until: Date.now() + ms,
    active: false,
    async wait(messages) {
      const left = hold.until - Date.now();
      if (messages === 0 || left <= 0) return;
      log.info("holding queued messages for returning subscribers", {
        connector,
        messages,
        for: `${left}ms`,
      });
      hold.active = true;
      await new Promise((resolve) => setTimeout(resolve, left));
      hold.active = false;
    },
  };
  return hold;
}
