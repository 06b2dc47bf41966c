/**
 * Ids publishers chose (Mercure's `id`), mapped to the log positions of
 * their events, so a Last-Event-ID holding one resumes like the log's own
 * ids. Bounded like the history it indexes: past `size`, the oldest go.
 *
 * @module
 */

/** A bounded map from a chosen id to its event's position. */
export interface IdIndex {
  set(id: string, position: number): void;
  get(id: string): number | undefined;
  clear(): void;
}

/** Creates an empty index holding at most `size` ids. */
export function createIdIndex(size: number): IdIndex {
  const positions = new Map<string, number>();
  return {
    set(id, position) {
      // A reused id points at its newest event.
      positions.delete(id);
      positions.set(id, position);
      while (positions.size > size) {
        positions.delete(positions.keys().next().value as string);
      }
    },
    get: (id) => positions.get(id),
    clear: () => positions.clear(),
  };
}
