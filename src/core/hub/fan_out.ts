/**
 * What a hub does with the log's events: the fan-out of one logged event to
 * the connections of its audience (each once, none mid-replay; a private
 * Mercure update only where the token allows), and the keepalives.
 *
 * @module
 */

import type { EventLog, LoggedEvent } from "../history/event_log.ts";
import { setLongInterval } from "../long_timer.ts";
import { privateGate } from "./private_gate.ts";
import type { Registry } from "./registry.ts";
import { HEARTBEAT } from "./sse.ts";
import type { Writer } from "./writer.ts";

/** How often the log expires old events when heartbeats are off. */
const EXPIRE_SWEEP_MS = 30_000;

/** The hub's fan-out: queues an event, counts it, returns the deliveries. */
export function createFanOut(
  registry: Registry,
  writer: Writer,
  counts: { events: number; deliveries: number },
): (event: LoggedEvent) => number {
  return ({ position, audience, frame }) => {
    counts.events++;
    let n = 0;
    const gate = audience.kind === "topics" && audience.private
      ? privateGate(audience.names)
      : undefined;
    for (const group of registry.groups(audience)) {
      if (group === undefined) continue;
      for (const c of group) {
        // Replay will reach this event; or another of its rooms already did.
        if (c.replayedTo !== undefined || c.lastQueued === position) continue;
        if (gate !== undefined && !gate(c)) continue;
        c.lastQueued = position;
        writer.queue(c, frame);
        n++;
      }
    }
    counts.deliveries += n;
    return n;
  };
}

/**
 * Keepalives go only where nothing else was written: ticking twice per
 * interval and skipping a connection written to since the last tick, no
 * connection is silent for longer than the interval, and busy ones get
 * none (no burst of writes to every client each interval, which delayed
 * the events behind it). heartbeatMs 0 turns keepalives off; the log still
 * expires on a timer. Chained: "720h" overflows one timer.
 */
export function startHeartbeat(
  registry: Registry,
  writer: Writer,
  log: EventLog,
  heartbeatMs: number,
): ReturnType<typeof setLongInterval> {
  return setLongInterval(() => {
    if (heartbeatMs > 0) {
      for (const c of registry.all) {
        if (c.active) c.active = false;
        else writer.queue(c, HEARTBEAT);
      }
    }
    log.expire();
  }, heartbeatMs > 0 ? heartbeatMs / 2 : EXPIRE_SWEEP_MS);
}
