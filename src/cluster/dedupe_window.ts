/**
 * The dedupe window of a cluster: keys of input messages (source, AMQP
 * message-id and flow) whose event this instance's tail has seen, with the
 * event's id. The rule: an input whose key is in the window is not appended
 * again; the append answers with the first event's id. The window holds
 * the keys of the last `ttlMs` (and at most `size` keys); an instance fills
 * it from the stream when it attaches (the tail starts that far back).
 *
 * @module
 */

/** Recently seen dedupe keys. */
export interface DedupeWindow {
  /** Records `key` as appended with `id` at `at` (ms); false if it was known. */
  remember(key: string, id: string, at: number): boolean;
  /** The id of the event appended under `key`, if in the window. */
  lookup(key: string, now: number): string | undefined;
}

/** Creates an empty window. */
export function createDedupeWindow(ttlMs: number, size: number): DedupeWindow {
  // Insertion order is time order: the oldest key is the first.
  const keys = new Map<string, { id: string; at: number }>();

  const trim = (now: number) => {
    for (const [key, entry] of keys) {
      if (keys.size <= size && entry.at >= now - ttlMs) break;
      keys.delete(key);
    }
  };

  return {
    remember(key, id, at) {
      trim(at);
      if (keys.has(key)) return false;
      keys.set(key, { id, at });
      return true;
    },
    lookup(key, now) {
      trim(now);
      return keys.get(key)?.id;
    },
  };
}
