/**
 * The local cache of a cluster instance: the newest events its tail
 * consumer delivered, bounded by count and bytes. It answers most resumes
 * without touching the broker. It covers a contiguous range of stream
 * offsets, [coveredFrom, newest], with no event of that range missing
 * (offsets of non-event records are simply not in it).
 *
 * @module
 */

import type { LoggedEvent } from "../core/event_log.ts";

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
  let events: LoggedEvent[] = [];
  let head = 0;
  let bytes = 0;
  /** Lowest offset after which nothing is missing; Infinity when unknown. */
  let coveredAfter = Infinity;

  const evictOldest = () => {
    const old = events[head];
    events[head] = undefined as unknown as LoggedEvent;
    head++;
    bytes -= old.frame.byteLength;
    coveredAfter = old.position;
    if (head > 1024 && head * 2 > events.length) {
      events = events.slice(head);
      head = 0;
    }
  };

  const indexAfter = (offset: number): number => {
    let lo = head;
    let hi = events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (events[mid].position <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo - head;
  };

  return {
    add(event) {
      if (coveredAfter === Infinity) coveredAfter = event.position - 1;
      if (size <= 0) {
        coveredAfter = event.position;
        return;
      }
      events.push(event);
      bytes += event.frame.byteLength;
      while (
        events.length - head > size ||
        (bytes > maxBytes && events.length - head > 1)
      ) evictOldest();
    },
    seen(offset) {
      if (coveredAfter === Infinity) coveredAfter = offset - 1;
    },
    get coveredAfter() {
      return coveredAfter;
    },
    indexAfter,
    at: (index) => events[head + index],
    reset() {
      events = [];
      head = 0;
      bytes = 0;
      coveredAfter = Infinity;
    },
    get length() {
      return events.length - head;
    },
    get bytes() {
      return bytes;
    },
  };
}
