/**
 * Who an event is for. Stored with each event in history so a resuming client
 * replays exactly what its rooms and user would have received live.
 *
 * @module
 */

/** Everyone, one room, or one user. */
export type Audience =
  | { readonly kind: "all" }
  | { readonly kind: "room"; readonly name: string }
  | { readonly kind: "user"; readonly name: string };

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
      return subscription.rooms.has(audience.name);
    case "user":
      return subscription.userId === audience.name;
  }
}
