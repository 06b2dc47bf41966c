/**
 * Presence in the app: which SSE connectors keep it (a presence table, or a
 * flow reading their lifecycle), which REST connectors answer for it, and
 * the lifecycle source that feeds the flows reading an SSE connector.
 *
 * @module
 */

import type { Config, SseConnector } from "./config/schema.ts";
import type { Hub } from "./core/hub/hub.ts";
import type { Presence } from "./presence/tracker.ts";
import {
  createLifecycleSource,
  type LifecycleSource,
} from "./sources/lifecycle.ts";
import type { SourceContext } from "./sources/source.ts";

/** Lifecycle events waiting, when no presence table sets `queue_size`. */
const DEFAULT_LIFECYCLE_QUEUE = 10_000;
/** A lifecycle target that was away is tried again after this. */
const LIFECYCLE_RETRY_MS = 1_000;

/** True when a flow reads the lifecycle of SSE connector `name`. */
export function readsLifecycle(config: Config, name: string): boolean {
  return Object.values(config.flow).some((f) => f.from.connector === name);
}

/** The presences REST connector `name` answers for: those it publishes to. */
export function presencesOf(
  config: Config,
  name: string,
  presences: ReadonlyMap<string, Presence>,
): ReadonlyMap<string, Presence> {
  const asked = new Map<string, Presence>();
  for (const f of Object.values(config.flow)) {
    const presence = presences.get(f.to.connector);
    if (f.from.connector === name && presence) {
      asked.set(f.to.connector, presence);
    }
  }
  return asked;
}

/**
 * The lifecycle source of SSE connector `name` when flows read it (else
 * undefined); its presence learns the hub (join/leave) and the source.
 */
export function tellLifecycle(
  name: string,
  c: SseConnector,
  context: SourceContext,
  hubs: ReadonlyMap<string, Hub>,
  presences: ReadonlyMap<string, Presence>,
): LifecycleSource | undefined {
  const lifecycle = context.flows.length > 0
    ? createLifecycleSource(name, context, {
      queueSize: c.presence?.queue_size ?? DEFAULT_LIFECYCLE_QUEUE,
      retryMs: LIFECYCLE_RETRY_MS,
    })
    : undefined;
  presences.get(name)?.attach(hubs.get(name)!, lifecycle);
  return lifecycle;
}
