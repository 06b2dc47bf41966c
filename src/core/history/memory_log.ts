/**
 * The event log of one process: ids from the wall clock, events kept in a
 * bounded in-memory history. Ids are µs-scaled wall time bumped to stay
 * strictly increasing, so they keep increasing across restarts and an id
 * below this process's first one is recognisably from an older process.
 *
 * @module
 */

import { audienceIncludes } from "./audience.ts";
import type {
  Appended,
  Deliver,
  EventLog,
  ReplayChunk,
  ResumeStart,
} from "./event_log.ts";
import { createHistory, type HistoryLimits } from "./history.ts";
import { createIdIndex } from "./id_index.ts";
import { encodeEvent } from "../hub/sse.ts";

/** Settings of the in-memory log. */
export interface MemoryLogOptions {
  readonly history: HistoryLimits;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
}

const LAST_EVENT_ID = /^\d{1,16}$/;

/** Creates an empty in-memory log. */
export function createMemoryLog(options: MemoryLogOptions): EventLog {
  const now = options.now ?? Date.now;
  const history = createHistory(options.history);
  const firstPosition = now() * 1000;
  let lastPosition = firstPosition - 1;
  let lastId = "";
  let deliver: Deliver = () => 0;
  const chosenIds = createIdIndex(Math.max(options.history.size, 1));

  return {
    connect(fanOut) {
      deliver = fanOut;
    },

    append({ audience, event, data, id: chosen, retry }): Appended {
      const at = now();
      const position = lastPosition = Math.max(lastPosition + 1, at * 1000);
      const id = lastId = chosen ?? String(position);
      if (chosen !== undefined) chosenIds.set(chosen, position);
      const frame = encodeEvent({ id, event, data, retry });
      history.expire(at);
      history.append({ position, audience, frame, at });
      return { id, delivered: deliver({ position, id, audience, frame }) };
    },

    resume(lastEventId): ResumeStart {
      const chosen = chosenIds.get(lastEventId);
      if (chosen === undefined && !LAST_EVENT_ID.test(lastEventId)) {
        return { kind: "gap", reason: "malformed" };
      }
      const position = chosen ?? Number(lastEventId);
      history.expire(now());
      if (position > lastPosition) return { kind: "gap", reason: "unknown" };
      if (position < firstPosition) return { kind: "gap", reason: "restart" };
      if (position === lastPosition) return { kind: "live" };
      const found = history.find(position);
      return found === true
        ? { kind: "replay", after: position }
        : { kind: "gap", reason: found };
    },

    earliest(): ResumeStart {
      history.expire(now());
      // Every event after the newest evicted one is still held.
      const after = Math.max(history.lastEvictedPosition, firstPosition - 1);
      return after >= lastPosition
        ? { kind: "live" }
        : { kind: "replay", after };
    },

    read(after, subscription, budgetBytes): ReplayChunk {
      // History moved past this client while it read slowly.
      if (after < history.lastEvictedPosition) {
        return { kind: "gap", reason: "expired" };
      }
      const frames: Uint8Array[] = [];
      let bytes = 0;
      let last = after;
      let i = history.indexAfter(after);
      for (let e = history.at(i); e !== undefined; e = history.at(++i)) {
        last = e.position;
        if (!audienceIncludes(e.audience, subscription)) continue;
        frames.push(e.frame);
        bytes += e.frame.byteLength;
        if (bytes >= budgetBytes) break;
      }
      return { kind: "events", frames, last };
    },

    get lastPosition() {
      return lastPosition;
    },

    get lastId() {
      return lastId;
    },

    stats: () => ({ events: history.length, bytes: history.bytes }),

    expire: () => history.expire(now()),

    close() {},
  };
}
