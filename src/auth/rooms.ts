/**
 * Room patterns of a token's `rooms` claim and of `public_rooms`: an exact
 * name (`orders`), a prefix pattern (`orders.*`: every room whose name starts
 * with `orders.`, at any depth), or `*` for every room.
 *
 * @module
 */

/** A compiled list of room patterns. */
export type RoomMatcher = (room: string) => boolean;

/** Compiles `patterns`; an empty list matches nothing. */
export function compileRooms(patterns: readonly string[]): RoomMatcher {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  let any = false;
  for (const pattern of patterns) {
    if (pattern === "*") any = true;
    else if (pattern.endsWith(".*")) prefixes.push(pattern.slice(0, -1));
    else exact.add(pattern);
  }
  return (room) =>
    any || exact.has(room) ||
    prefixes.some((prefix) =>
      room.length > prefix.length && room.startsWith(prefix)
    );
}

/**
 * The `rooms` claim as a list of patterns: absent is none, a list of strings
 * is kept, anything else is undefined (the token is malformed).
 */
export function roomsClaim(value: unknown): string[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return undefined;
  return value.every((v) => typeof v === "string") ? value : undefined;
}
