/**
 * Who an event is for. Stored with each event in history so a resuming client
 * replays exactly what its rooms and user would have received live.
 *
 * @module
 */

import { anyMatches } from "../hub/topic_selector.ts";

/**
 * Everyone, some rooms, or some users (one name, or several when the target
 * is a list; a connection in several of the rooms receives the event once).
 */
export type Audience =
  | { readonly kind: "all" }
  | { readonly kind: "room"; readonly names: readonly string[] }
  | { readonly kind: "user"; readonly names: readonly string[] }
  /**
   * A Mercure update: its topics (the first is canonical); a private one
   * reaches only subscribers whose token's selectors match one of them.
   */
  | {
    readonly kind: "topics";
    readonly names: readonly string[];
    readonly private: boolean;
  };

/** What a Mercure subscriber asked for and may receive. */
export interface TopicSubscription {
  /** The `topic` selectors of its query. */
  readonly selectors: readonly string[];
  /** Its token's `mercure.subscribe` selectors: who private updates reach. */
  readonly allowed: readonly string[];
}

/** The rooms and user a connection subscribed to. */
export interface Subscription {
  readonly rooms: ReadonlySet<string>;
  readonly userId: string | undefined;
  /** Set on a Mercure connector's subscribers only. */
  readonly topics?: TopicSubscription;
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
    case "topics":
      return subscription.topics !== undefined &&
        anyMatches(subscription.topics.selectors, audience.names) &&
        (!audience.private ||
          anyMatches(subscription.topics.allowed, audience.names));
  }
}

/**
 * What one name costs beside its characters: the string's header in the
 * engine (V8 and JavaScriptCore both keep one) and its slot in the list.
 */
const NAME_OVERHEAD_BYTES = 32;
/** A character outside Latin-1: the engine stores the string two bytes per unit. */
// deno-lint-ignore no-control-regex
const WIDE = /[^\x00-\xff]/;

/**
 * Memory an audience pins while its event is held, as the engines store
 * strings (one byte per Latin-1 character, else two per UTF-16 unit).
 * History counts it beside the frame, so a target list of many names cannot
 * hide behind a small frame and `history.max_bytes` bounds what it holds.
 * Measured with 1,000 names of 128 ASCII characters per event: 160 kB
 * counted, 153 kB of heap on Deno 2.9 and 152 kB on Bun 1.4.
 */
export function audienceBytes(audience: Audience): number {
  if (audience.kind === "all") return 0;
  let bytes = 0;
  for (const name of audience.names) {
    bytes += NAME_OVERHEAD_BYTES + (WIDE.test(name) ? 2 : 1) * name.length;
  }
  return bytes;
}
