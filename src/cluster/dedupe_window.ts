/**
 * The dedupe window of a cluster: keys of input messages (source, AMQP
 * message-id and flow) of the events in the last `span` offsets of the
 * stream, with the event's id. The rule, the same on every instance because
 * it is decided from the stream alone: an event record whose key was on an
 * event record in the `span` offsets before it is a duplicate and is never
 * delivered. Appends ask the window first, so a redelivered input is not
 * appended again while its first event is in the window. Offsets, not time:
 * nothing is appended while the broker is away, so an outage of any length
 * followed by a redelivery stays inside the window.
 *
 * @module
 */

/** Keys of the recent events. */
export interface DedupeWindow {
  /**
   * Records `key` on the event `id` at `offset` (offsets only grow); false
   * when the key was on an event within the window (a duplicate).
   */
  remember(key: string, id: string, offset: number): boolean;
  /** The id of the event appended under `key`, if in the window. */
  lookup(key: string): string | undefined;
  /**
   * Offsets from which this instance's decisions are exact: it has seen
   * the `span` offsets before them. Infinity until it has a start.
   */
  readonly exactFrom: number;
  /** Offsets the window spans. */
  readonly span: number;
  /** Where this instance's reading of the stream starts. */
  start(offset: number): void;
  /** Offsets of event records found to be duplicates (recent ones). */
  isDuplicate(offset: number): boolean;
  clear(): void;
}

/** Duplicate offsets kept for replays; duplicates are rare. */
const DUPLICATES_KEPT = 10_000;

/** Creates an empty window over `span` offsets. */
export function createDedupeWindow(span: number): DedupeWindow {
  // Insertion order is offset order: the oldest key is the first.
  const keys = new Map<string, { id: string; offset: number }>();
  const duplicates = new Set<number>();
  let exactFrom = Infinity;

  const trim = (offset: number) => {
    for (const [key, entry] of keys) {
      if (entry.offset >= offset - span) break;
      keys.delete(key);
    }
  };

  return {
    remember(key, id, offset) {
      trim(offset);
      if (keys.has(key)) {
        duplicates.add(offset);
        if (duplicates.size > DUPLICATES_KEPT) {
          duplicates.delete(duplicates.values().next().value!);
        }
        return false;
      }
      keys.set(key, { id, offset });
      return true;
    },
    lookup: (key) => keys.get(key)?.id,
    get exactFrom() {
      return exactFrom;
    },
    span,
    start(offset) {
      // Nothing precedes the stream's first offset.
      exactFrom = offset === 0 ? 0 : offset + span;
    },
    isDuplicate: (offset) => duplicates.has(offset),
    clear() {
      keys.clear();
      duplicates.clear();
      exactFrom = Infinity;
    },
  };
}
