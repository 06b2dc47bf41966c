/**
 * A bounded cache with single flight: the first request for a key loads
 * it, requests for the same key meanwhile share that load, and the value
 * is then kept for the time `ttlOf` gives it (0: not kept). At most
 * `maxEntries` values are kept; the least recently used goes first. This
 * is what keeps a reconnect storm from reaching the app: N clients with
 * the same key cost one load.
 *
 * @module
 */

/** Where a value came from. */
export type Lookup = "cache" | "shared" | "call";

/** A cache of values loaded once per key. */
export interface SharedCache<V> {
  /** The value of `key`, from the cache, a load in flight, or `load`. */
  get(key: string, load: () => Promise<V>): Promise<[V, Lookup]>;
  /** Values kept now (some may have expired, unread). */
  readonly size: number;
}

/** Settings of a {@link SharedCache}. */
export interface SharedCacheOptions<V> {
  readonly maxEntries: number;
  /** How long to keep a loaded value, in ms; 0 or less: not at all. */
  readonly ttlOf: (value: V) => number;
  readonly now?: () => number;
}

/** Creates an empty cache. */
export function createSharedCache<V>(
  options: SharedCacheOptions<V>,
): SharedCache<V> {
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order: re-inserting on a hit makes the
  // first key the least recently used.
  const kept = new Map<string, { value: V; until: number }>();
  const loading = new Map<string, Promise<V>>();

  const keep = (key: string, value: V) => {
    const ttl = options.ttlOf(value);
    if (ttl <= 0 || options.maxEntries === 0) return;
    kept.delete(key);
    kept.set(key, { value, until: now() + ttl });
    while (kept.size > options.maxEntries) {
      kept.delete(kept.keys().next().value as string);
    }
  };

  return {
    get size() {
      return kept.size;
    },
    async get(key, load) {
      const entry = kept.get(key);
      if (entry !== undefined) {
        if (entry.until > now()) {
          kept.delete(key);
          kept.set(key, entry);
          return [entry.value, "cache"];
        }
        kept.delete(key);
      }
      const inFlight = loading.get(key);
      if (inFlight !== undefined) return [await inFlight, "shared"];
      const pending = load();
      loading.set(key, pending);
      try {
        const value = await pending;
        keep(key, value);
        return [value, "call"];
      } finally {
        loading.delete(key);
      }
    },
  };
}
