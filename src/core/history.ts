/**
 * Bounded in-memory history of sent events, for resuming with Last-Event-ID.
 * Bounded three ways (count, bytes, age); whichever is hit first evicts the
 * oldest events. Ids are strictly increasing, so lookups are binary searches.
 *
 * @module
 */

import type { Audience } from "./audience.ts";

/** One event as stored: its id, who it was for, and its encoded frame. */
export interface StoredEvent {
  readonly id: number;
  readonly audience: Audience;
  readonly frame: Uint8Array;
  readonly at: number;
}

/** Bounds of the history; `size: 0` turns it off. */
export interface HistoryLimits {
  readonly size: number;
  readonly maxBytes: number;
  readonly ttlMs: number;
}

/** Where a resume starts, or why it cannot be proven complete. */
export type ResumePoint =
  | { readonly ok: true; readonly index: number }
  | { readonly ok: false; readonly reason: "expired" | "unknown" };

/** A bounded, id-ordered event log. */
export interface History {
  append(event: StoredEvent): void;
  /** Drops events older than the ttl. */
  expire(now: number): void;
  /** Finds the position right after `lastId`. */
  resumeAfter(lastId: number): ResumePoint;
  /** The event at a position (positions shift as events are evicted). */
  at(index: number): StoredEvent | undefined;
  /** Position of the first event with an id greater than `id`. */
  indexAfter(id: number): number;
  readonly length: number;
  readonly bytes: number;
  /** Id of the newest event ever evicted, 0 when none was. */
  readonly lastEvictedId: number;
}

/** Creates an empty history with the given bounds. */
export function createHistory(limits: HistoryLimits): History {
  // A deque as an array with a moving head; compacted when half is dead.
  let events: StoredEvent[] = [];
  let head = 0;
  let bytes = 0;
  let lastEvictedId = 0;

  const evictOldest = () => {
    const old = events[head];
    events[head] = undefined as unknown as StoredEvent;
    head++;
    bytes -= old.frame.byteLength;
    lastEvictedId = old.id;
    if (head > 1024 && head * 2 > events.length) {
      events = events.slice(head);
      head = 0;
    }
  };

  const indexAfter = (id: number): number => {
    let lo = head;
    let hi = events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (events[mid].id <= id) lo = mid + 1;
      else hi = mid;
    }
    return lo - head;
  };

  return {
    append(event) {
      if (limits.size <= 0) {
        lastEvictedId = event.id;
        return;
      }
      events.push(event);
      bytes += event.frame.byteLength;
      while (
        events.length - head > limits.size ||
        (bytes > limits.maxBytes && events.length - head > 0)
      ) evictOldest();
    },
    expire(now) {
      const oldest = now - limits.ttlMs;
      while (events.length - head > 0 && events[head].at < oldest) {
        evictOldest();
      }
    },
    resumeAfter(lastId) {
      if (lastId === lastEvictedId) return { ok: true, index: 0 };
      const index = indexAfter(lastId);
      const previous = events[head + index - 1];
      if (previous !== undefined && index > 0 && previous.id === lastId) {
        return { ok: true, index };
      }
      if (lastId < lastEvictedId) return { ok: false, reason: "expired" };
      return { ok: false, reason: "unknown" };
    },
    at(index) {
      return events[head + index];
    },
    indexAfter,
    get length() {
      return events.length - head;
    },
    get bytes() {
      return bytes;
    },
    get lastEvictedId() {
      return lastEvictedId;
    },
  };
}
