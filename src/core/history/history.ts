/**
 * Bounded in-memory history of sent events, for resuming with Last-Event-ID.
 * Bounded three ways (count, bytes, age); whichever is hit first evicts the
 * oldest events. Bytes are what an event pins: its frame and the names of
 * its audience (a list of rooms can outweigh a small frame). Positions are strictly increasing, so lookups are binary
 * searches.
 *
 * @module
 */

import type { Audience } from "./audience.ts";
import { createFrameQueue } from "./frame_queue.ts";

/** One event as stored: its place, who it was for, and its encoded frame. */
export interface StoredEvent {
  readonly position: number;
  readonly audience: Audience;
  readonly frame: Uint8Array;
  /** When it was appended, ms since the epoch (for the ttl). */
  readonly at: number;
}

/** Bounds of the history; `size: 0` turns it off. */
export interface HistoryLimits {
  readonly size: number;
  readonly maxBytes: number;
  readonly ttlMs: number;
}

/** A bounded, position-ordered event store. */
export interface History {
  append(event: StoredEvent): void;
  /** Drops events older than the ttl. */
  expire(now: number): void;
  /**
   * True when the events after `position` are all still here: `position` is
   * stored or is the newest evicted one. Otherwise why not.
   */
  find(position: number): true | "expired" | "unknown";
  /** The event at an index (indexes shift as events are evicted). */
  at(index: number): StoredEvent | undefined;
  /** Index of the first event with a position greater than `position`. */
  indexAfter(position: number): number;
  readonly length: number;
  /** Frames plus audience names held (see audienceBytes). */
  readonly bytes: number;
  /** Position of the newest event ever evicted, 0 when none was. */
  readonly lastEvictedPosition: number;
}

/** Creates an empty history with the given bounds. */
export function createHistory(limits: HistoryLimits): History {
  const events = createFrameQueue<StoredEvent>();
  let lastEvictedPosition = 0;
  const evictOldest = () => {
    lastEvictedPosition = events.shift()!.position;
  };

  return {
    append(event) {
      if (limits.size <= 0) {
        lastEvictedPosition = event.position;
        return;
      }
      events.push(event);
      while (
        events.length > limits.size ||
        (events.bytes > limits.maxBytes && events.length > 0)
      ) evictOldest();
    },
    expire(now) {
      const oldest = now - limits.ttlMs;
      while (events.length > 0 && events.at(0)!.at < oldest) evictOldest();
    },
    find(position) {
      if (position === lastEvictedPosition) return true;
      const index = events.indexAfter(position);
      if (index > 0 && events.at(index - 1)!.position === position) {
        return true;
      }
      return position < lastEvictedPosition ? "expired" : "unknown";
    },
    at: (index) => events.at(index),
    indexAfter: (position) => events.indexAfter(position),
    get length() {
      return events.length;
    },
    get bytes() {
      return events.bytes;
    },
    get lastEvictedPosition() {
      return lastEvictedPosition;
    },
  };
}
