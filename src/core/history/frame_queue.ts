/**
 * Encoded events in position order, oldest first: the store behind the
 * in-memory history and the cluster's local cache. A deque as an array with
 * a moving head (compacted when half of it is dead), so evicting the oldest
 * is O(1) and finding a position is a binary search.
 *
 * @module
 */

import { type Audience, audienceBytes } from "./audience.ts";

/** What the queue holds: a position, who it is for and its encoded frame. */
export interface Positioned {
  readonly position: number;
  readonly audience: Audience;
  readonly frame: Uint8Array;
}

/** Bytes an item pins: its frame and its audience's names. */
function weigh(item: Positioned): number {
  return item.frame.byteLength + audienceBytes(item.audience);
}

/** A position-ordered queue of frames that counts the bytes it pins. */
export interface FrameQueue<T extends Positioned> {
  push(item: T): void;
  /** Removes and returns the oldest item. */
  shift(): T | undefined;
  /** The item at an index (indexes shift as the oldest are removed). */
  at(index: number): T | undefined;
  /** Index of the first item with a position greater than `position`. */
  indexAfter(position: number): number;
  clear(): void;
  readonly length: number;
  readonly bytes: number;
}

/** Creates an empty queue. */
export function createFrameQueue<T extends Positioned>(): FrameQueue<T> {
  let items: T[] = [];
  let head = 0;
  let bytes = 0;
  return {
    push(item) {
      items.push(item);
      bytes += weigh(item);
    },
    shift() {
      if (head === items.length) return undefined;
      const old = items[head];
      items[head] = undefined as unknown as T;
      head++;
      bytes -= weigh(old);
      if (head > 1024 && head * 2 > items.length) {
        items = items.slice(head);
        head = 0;
      }
      return old;
    },
    at: (index) => items[head + index],
    indexAfter(position) {
      let lo = head;
      let hi = items.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (items[mid].position <= position) lo = mid + 1;
        else hi = mid;
      }
      return lo - head;
    },
    clear() {
      items = [];
      head = 0;
      bytes = 0;
    },
    get length() {
      return items.length - head;
    },
    get bytes() {
      return bytes;
    },
  };
}
