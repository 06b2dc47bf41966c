/**
 * The SSE connectors of a config: one hub each, over the delivery threads'
 * pool when there is one (src/workers).
 *
 * @module
 */

import type { AMQPTlsOptions } from "@cloudamqp/amqp-client";
import type { Authorizer } from "./core/http/handler.ts";
import type { Logger } from "./core/log.ts";
import type { Config, SseConnector } from "./config/schema.ts";
import type { MercureAuthorizer } from "./mercure/authorizer.ts";
import type { Hub } from "./core/hub/hub.ts";
import type { Presence } from "./presence/tracker.ts";
import { readsLifecycle } from "./presence_setup.ts";
import { createSseConnector, type SseConnectorParts } from "./sse_connector.ts";
import type { Pool } from "./workers/pool.ts";

/** What the connectors take from the runtime (app.ts's Runtime). */
interface SseRuntime {
  readonly log: Logger;
  readonly authorizers?: Readonly<Record<string, Authorizer>>;
  readonly mercure?: Readonly<Record<string, MercureAuthorizer>>;
  readonly brokerTls?: Readonly<Record<string, AMQPTlsOptions>>;
}

/** One hub per SSE connector; with delivery threads, over the pool. */
export function createSseConnectors(
  config: Config,
  runtime: SseRuntime,
  hubs: Map<string, Hub>,
  presences: Map<string, Presence>,
  pool: Pool | undefined,
): SseConnectorParts[] {
  const made: SseConnectorParts[] = [];
  // Lifecycle events and cluster snapshots name the process by this.
  const instance = `${config.service.name}-${crypto.randomUUID().slice(0, 8)}`;
  for (const [name, c] of Object.entries(config.connector)) {
    if (c.type !== "sse") continue;
    const storeName = c.history.store ?? "";
    const store = config.connector[storeName];
    const sse = createSseConnector(
      name,
      c,
      runtime.log,
      c.protocol === "mercure"
        ? runtime.mercure?.[name]
        : runtime.authorizers?.[name],
      store?.type === "mq"
        ? { connector: store, tlsOptions: runtime.brokerTls?.[storeName] }
        : undefined,
      c.presence !== undefined || readsLifecycle(config, name)
        ? { instance }
        : undefined,
      threadsServe(c) ? pool?.parts(name) : undefined,
    );
    hubs.set(
      name,
      pool && threadsServe(c) ? pool.hub(name, sse.hub, sse.presence) : sse.hub,
    );
    if (sse.presence) presences.set(name, sse.presence);
    made.push(sse);
  }
  return made;
}

/**
 * Delivery threads serve hypha's own protocol; a Mercure connector stays on
 * the main thread (its front end is not in the threads yet).
 */
function threadsServe(c: SseConnector): boolean {
  return c.protocol !== "mercure";
}

/** The SSE connectors delivery threads serve, with what they need to know. */
export function pooled(config: Config) {
  return Object.entries(config.connector).flatMap(([name, c]) =>
    c.type === "sse" && threadsServe(c)
      ? [{
        name,
        perAddress: c.max_connections_per_ip,
        watched: c.presence !== undefined || readsLifecycle(config, name),
      }]
      : []
  );
}
