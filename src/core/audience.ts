/**
 * Who an event is for. Stored with each event in history so a resuming client
 * replays exactly what its rooms and user would have received live.
 *
 * @module
 */

/**
 * Everyone, some rooms, or some users (one name, or several when the target
 * is a list; a connection in several of the rooms receives the event once).
 */
export type Audience =
  | { readonly kind: "all" }
  | { readonly kind: "room"; readonly names: readonly string[] }
  | { readonly kind: "user"; readonly names: readonly string[] };

/** The rooms and user a connection subscribed to. */
export interface Subscription {
  readonly rooms: ReadonlySet<string>;
  readonly userId: string | undefined;
}

/** The one broadcast audience; shared, never allocated per event. */
export const EVERYONE: Audience = Object.freeze({ kind: "all" });

/** True when a connection with this subscription receives the audience's events. */
export function audienceIncludes(
  audience: Audience,
  subscription: Subscription,
): boolean {
  switch (audience.kind) {
    case "all":
      return true;
    case "room":
      return audience.names.some((name) => subscription.rooms.has(name));
    case "user":
      return subscription.userId !== undefined &&
        audience.names.includes(subscription.userId);
  }
}

/**
 * What one name costs beside its characters: the string's header in the
 * engine (V8 and JavaScriptCore both keep one) and its slot in the list.
 */
const NAME_OVERHEAD_BYTES = 40;

/**
 * Memory an audience pins while its event is held, estimated high: each
 * name as two bytes per UTF-16 unit plus its overhead. History counts it
 * beside the frame, so a target list of many long names cannot hide behind
 * a small frame and `history.max_bytes` bounds what history really holds.
 */
export function audienceBytes(audience: Audience): number {
  if (audience.kind === "all") return 0;
  let bytes = 0;
  for (const name of audience.names) {
    bytes += NAME_OVERHEAD_BYTES + 2 * name.length;
  }
  return bytes;
}
