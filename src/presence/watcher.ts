/**
 * The SSE connector's connections as presence sees them: each one opening
 * or closing is counted in the local index and, when a flow reads it, told
 * to the lifecycle source as `connected` or `disconnected`.
 *
 * @module
 */

import type { ConnectionWatcher } from "../core/hub/connection.ts";
import type { LIFECYCLE_OPERATIONS } from "../config/schema.ts";
import type { LocalPresence } from "./local.ts";

/** Where lifecycle events go: the SSE connector's source (sources/lifecycle.ts). */
export interface LifecycleSink {
  /** True when some flow reads `operation`: build its input only then. */
  wants(operation: typeof LIFECYCLE_OPERATIONS[number]): boolean;
  emit(
    operation: typeof LIFECYCLE_OPERATIONS[number],
    input: Record<string, unknown>,
  ): void;
}

/** What the watcher counts into and tells. */
export interface WatcherOptions {
  /** This process, as lifecycle events name it. */
  readonly instance: string;
  readonly local: LocalPresence;
  /** The lifecycle source, once it exists. */
  lifecycle(): LifecycleSink | undefined;
  /** The event's `time`. */
  time(): string;
  /** A connection closed for shutdown: the process is closing. */
  shutdown(): void;
}

/** The watcher the connector calls per connection opened and closed. */
export function createPresenceWatcher(
  options: WatcherOptions,
): ConnectionWatcher {
  const { instance, local, time } = options;
  return {
    opened(c) {
      local.add(c);
      const lifecycle = options.lifecycle();
      if (lifecycle?.wants("connected")) {
        lifecycle.emit("connected", {
          connection_id: `${instance}/${c.id}`,
          user_id: c.userId ?? null,
          rooms: [...c.rooms],
          instance,
          time: time(),
        });
      }
    },
    closed(c, reason) {
      // Before the removal: its leave events are not sent while closing.
      if (reason === "shutdown") options.shutdown();
      local.remove(c);
      const lifecycle = options.lifecycle();
      if (lifecycle?.wants("disconnected")) {
        lifecycle.emit("disconnected", {
          connection_id: `${instance}/${c.id}`,
          user_id: c.userId ?? null,
          rooms: [...c.rooms],
          reason: REASONS[reason],
          instance,
          time: time(),
        });
      }
    },
  };
}

/** The `reason` of a `disconnected` event, per way a connection ends. */
const REASONS = {
  client: "client_left",
  slow: "slow",
  lifetime: "lifetime",
  expired: "token_expired",
  shutdown: "shutdown",
  unavailable: "unavailable",
} as const;
