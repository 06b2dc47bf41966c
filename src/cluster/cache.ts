/**
 * The local cache of a cluster instance: the newest events its tail
 * consumer delivered, bounded by count and bytes (frames plus audience
 * names). It answers most resumes without touching the broker. It covers a
 * contiguous range of stream offsets, [coveredFrom, newest], with no event
 * of that range missing (offsets of non-event records are simply not in it).
 *
 * @module
 */

import type { LoggedEvent } from "../core/history/event_log.ts";
import { createFrameQueue } from "../core/history/frame_queue.ts";

/** The newest events, in offset order. */
export interface EventCache {
  /** Adds the event at the stream's tail. */
  add(event: LoggedEvent): void;
  /** Marks offsets up to `offset` as seen (non-event records move it too). */
  seen(offset: number): void;
  /** Every event after this offset is here; Infinity before any record. */
  readonly coveredAfter: number;
  /** Index of the first event with a position above `offset`. */
  indexAfter(offset: number): number;
  at(index: number): LoggedEvent | undefined;
  /** Forgets everything; the next event starts a new covered range. */
  reset(): void;
  readonly length: number;
  readonly bytes: number;
}

/** Creates an empty cache holding at most `size` events and `maxBytes`. */
export function createEventCache(size: number, maxBytes: number): EventCache {
  const events = createFrameQueue<LoggedEvent>();
  /** Lowest offset after which nothing is missing; Infinity when unknown. */
  let coveredAfter = Infinity;

  return {
    add(event) {
      if (coveredAfter === Infinity) coveredAfter = event.position - 1;
      if (size <= 0) {
        coveredAfter = event.position;
        return;
      }
      events.push(event);
      while (
        events.length > size || (events.bytes > maxBytes && events.length > 1)
      ) coveredAfter = events.shift()!.position;
    },
    seen(offset) {
      if (coveredAfter === Infinity) coveredAfter = offset - 1;
    },
    get coveredAfter() {
      return coveredAfter;
    },
    indexAfter: (offset) => events.indexAfter(offset),
    at: (index) => events.at(index),
    reset() {
      events.clear();
      coveredAfter = Infinity;
    },
    get length() {
      return events.length;
    },
    get bytes() {
      return events.bytes;
    },
  };
}
