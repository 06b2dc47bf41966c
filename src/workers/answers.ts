/**
 * The owning thread's answers to its delivery threads' questions: resume
 * and replay reads from the connector's own log, per-address slots from
 * one count for every thread.
 *
 * @module
 */

import type { Answer, FromThread } from "./protocol.ts";
import type { PooledConnector } from "./pooled.ts";

/** Answers `m`; rejects with what the thread's stream should hear. */
export async function answerAsk(
  m: Extract<FromThread, { t: "ask" }>,
  pooled: ReadonlyMap<string, PooledConnector>,
  nextSlot: () => number,
): Promise<Answer> {
  const { ask } = m;
  const p = pooled.get(ask.c);
  if (p?.log === undefined) throw new Error(`no connector ${ask.c}`);
  switch (ask.op) {
    case "resume": {
      const start = p.log.resume(ask.lastEventId);
      if (start instanceof Promise) return await start;
      // "Live" here is the newest event, which the thread may not have been
      // handed yet when its client came: it replays from there instead.
      return start.kind === "live"
        ? { kind: "replay", after: p.log.lastPosition }
        : start;
    }
    case "earliest":
      return await p.log.earliest();
    case "read":
      return await p.log.read(ask.after, {
        rooms: new Set(ask.rooms),
        userId: ask.userId,
      }, ask.budget);
    case "address": {
      const slot = p.addresses.take(() => ask.address);
      if (typeof slot === "string") return "ip_full";
      const n = nextSlot();
      p.slots.set(n, slot);
      return n;
    }
  }
}
