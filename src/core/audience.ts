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
