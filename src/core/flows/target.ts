/**
 * Where a flow sends: the seam between flows and what receives their
 * events. An SSE connector's hub is one target (here); a RabbitMQ
 * publisher is another (src/rabbitmq/publisher_target.ts), so the core
 * never imports broker code. A flow resolves its `target` (a literal or an
 * `input.`/`meta.` expression) to names the target checks, then hands it
 * one event; the hub's hot path stays as it was (one publish per flow).
 *
 * @module
 */

import { type Audience, EVERYONE } from "../history/audience.ts";
import type { Appended } from "../history/event_log.ts";
import type { Hub } from "../hub/hub.ts";
import { checkName, DEFAULT_QUERY_LIMITS } from "../http/query.ts";
import type { UnavailableError } from "./unavailable.ts";

/** The SSE connector's operations, as in the seed; `publish` for Mercure. */
export type Operation =
  | "broadcast"
  | "send_to_room"
  | "send_to_user"
  | "publish";

/** One event on its way to a target. */
export interface Sending {
  /** The resolved target: names (rooms, users, one routing key), or none. */
  readonly names: readonly string[] | undefined;
  readonly event: string;
  /** The event's data: compact JSON text. */
  readonly data: string;
  /** `<input id>/<flow>`, for a dedupe window; undefined without an input id. */
  readonly key: string | undefined;
  /** A Mercure update's audience (its topics), instead of names. */
  readonly audience?: Audience;
  /** A Mercure update's id, as its publisher chose it (or generated). */
  readonly id?: string;
}

/** What receives a flow's events. */
export interface Target {
  /**
   * What `target` names: "room" and "user" take a list, "routing_key" one
   * name; undefined: the target takes no names (broadcast).
   */
  readonly names: "room" | "user" | "routing_key" | undefined;
  /** The name used when the flow has no `target` (a publisher's routing_key). */
  readonly fallback?: string;
  /** True when ids are a cluster's (the same on every instance). */
  readonly shared: boolean;
  /** True when the event goes to a broker (counted as `published`). */
  readonly publishes: boolean;
  /** True for a Mercure connector's `publish`: events are updates. */
  readonly publishesUpdates?: boolean;
  /** Why `name` cannot be used, or undefined. */
  check(name: string): string | undefined;
  /**
   * Why the target cannot take events now, asked before anything is sent
   * (the caller throws it), or undefined.
   */
  away(): UnavailableError | undefined;
  /** Sends one event; rejects (UnavailableError) when it cannot confirm it. */
  send(sending: Sending): Appended | Promise<Appended>;
}

/** The target of an SSE connector's `operation`. */
export function hubTarget(hub: Hub, operation: Operation): Target {
  const kind = operation === "broadcast" || operation === "publish"
    ? undefined
    : operation === "send_to_room"
    ? "room"
    : "user";
  return {
    names: kind,
    get shared() {
      return hub.shared;
    },
    publishes: false,
    publishesUpdates: operation === "publish",
    check: (name) =>
      kind === undefined
        ? undefined
        : checkName(kind, name, DEFAULT_QUERY_LIMITS),
    away: () => undefined,
    send({ names, event, data, key, audience, id }) {
      const to: Audience = audience ??
        (kind === undefined ? EVERYONE : { kind, names: names as string[] });
      return hub.publish(to, event, data, key, id ? { id } : undefined);
    },
  };
}
