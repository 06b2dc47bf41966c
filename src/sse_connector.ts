/**
 * One SSE connector from its config: an event log, the hub over it, and the
 * listener that serves its path.
 *
 * @module
 */

import type { AMQPTlsOptions } from "@cloudamqp/amqp-client";
import { streamLogOptions } from "./cluster/cluster_config.ts";
import { createStreamLog } from "./cluster/stream_log.ts";
import { guardsConnections } from "./config/loopback.ts";
import type { MqConnector, SseConnector } from "./config/schema.ts";
import type { EventLog } from "./core/event_log.ts";
import { type Authorizer, createSseHandler } from "./core/handler.ts";
import type { Listener } from "./core/http.ts";
import { createHub, type Hub } from "./core/hub.ts";
import { type Logger, rateLimited } from "./core/log.ts";
import { createMemoryLog } from "./core/memory_log.ts";
import type { MercureAuthorizer } from "./mercure/authorizer.ts";
import { createMercureHandler } from "./mercure/handler.ts";

/** The mq connector holding a cluster's stream, with its TLS material. */
export interface BrokerStore {
  readonly connector: MqConnector;
  readonly tlsOptions?: AMQPTlsOptions;
}

/** A configured SSE connector. */
export interface SseConnectorParts {
  readonly hub: Hub;
  readonly listener: Listener;
  /** Readies the log (a cluster's attaches to its stream); before serving. */
  start(): Promise<void>;
  /** Closes the log, after the hub. */
  stop(): Promise<void>;
}

/** The connector's event log: a cluster's stream, or this process's memory. */
function createLog(
  name: string,
  c: SseConnector,
  store: BrokerStore | undefined,
  log: Logger,
): EventLog & { start?: () => Promise<void> } {
  if (store !== undefined && c.history.store !== undefined) {
    return createStreamLog(
      streamLogOptions(
        name,
        c,
        c.history.store,
        store.connector,
        log,
        store.tlsOptions,
      ),
    );
  }
  return createMemoryLog({
    history: {
      size: c.history.size,
      maxBytes: c.history.max_bytes,
      ttlMs: c.history.ttl,
    },
  });
}

/** Creates the hub and listener of SSE connector `name`. */
export function createSseConnector(
  name: string,
  c: SseConnector,
  log: Logger,
  authorize: Authorizer | MercureAuthorizer | undefined,
  /** The mq connector `history.store` names, for a cluster. */
  store?: BrokerStore,
): SseConnectorParts {
  const logLimited = rateLimited(10_000);
  const eventLog = createLog(name, c, store, log);
  const hub = createHub({
    log: eventLog,
    heartbeatMs: c.heartbeat_interval,
    retryMs: c.retry,
    maxBufferedBytes: c.max_buffered,
    stallMs: c.stall_timeout,
    gapEvent: c.gap_event,
    onClosed: (reason) => {
      if (reason !== "slow") return;
      logLimited(
        name,
        (suppressed) =>
          log.warn(
            suppressed === 0
              ? "disconnected a subscriber that fell too far behind"
              : "disconnected more subscribers that fell too far behind",
            {
              connector: name,
              max_buffered: c.max_buffered,
              count: suppressed || undefined,
            },
          ),
      );
    },
  });
  const fetch = c.protocol === "mercure"
    ? mercureFetch(
      name,
      c,
      hub,
      log,
      authorize as MercureAuthorizer,
      logLimited,
    )
    : sseFetch(name, c, hub, log, authorize as Authorizer, logLimited);
  return {
    hub,
    start: async () => await eventLog.start?.(),
    stop: async () => await eventLog.close(),
    listener: {
      connector: name,
      host: c.host,
      port: c.port,
      path: c.path,
      streaming: true,
      requestTimeoutMs: c.request_timeout,
      maxPendingConnections: c.max_pending_connections,
      connectionGuard: guardsConnections(c),
      fetch,
    },
  };
}

/** The Mercure front end of the connector (src/mercure/). */
function mercureFetch(
  name: string,
  c: SseConnector,
  hub: Hub,
  log: Logger,
  authorize: MercureAuthorizer,
  logLimited: ReturnType<typeof rateLimited>,
) {
  if (c.auth === undefined) {
    log.warn(
      "Mercure subscribers are anonymous: they receive public updates only",
      { connector: name },
    );
  }
  const origins = c.cors?.allowed_origins;
  return createMercureHandler(hub, {
    path: c.path,
    cors: {
      origins,
      allowCredentials: c.cors?.allow_credentials ?? false,
    },
    publishCors: {
      origins: c.cors?.publish_origins,
      allowCredentials: c.cors?.allow_credentials ?? false,
    },
    maxConnections: c.max_connections,
    maxConnectionsPerIp: c.max_connections_per_ip,
    maxLifetimeMs: c.max_lifetime,
    maxBodyBytes: c.max_body,
    authorize,
    onResumeRefused: () => resumeRefused(name, log, logLimited),
  });
}

function resumeRefused(
  name: string,
  log: Logger,
  logLimited: ReturnType<typeof rateLimited>,
): void {
  logLimited(
    `${name}.resume`,
    (suppressed) =>
      log.warn(
        "refused resuming subscribers: the cluster log is not attached",
        { connector: name, count: suppressed || undefined },
      ),
  );
}

/** hypha's own SSE front end: rooms and users. */
function sseFetch(
  name: string,
  c: SseConnector,
  hub: Hub,
  log: Logger,
  authorize: Authorizer | undefined,
  logLimited: ReturnType<typeof rateLimited>,
) {
  if (authorize === undefined) {
    log.warn(
      "subscribers are unauthenticated: any client may join any room or user_id",
      { connector: name },
    );
  }
  return createSseHandler(hub, {
    path: c.path,
    cors: {
      origins: c.cors?.allowed_origins,
      allowCredentials: c.cors?.allow_credentials ?? false,
    },
    maxConnections: c.max_connections,
    maxConnectionsPerIp: c.max_connections_per_ip,
    maxLifetimeMs: c.max_lifetime,
    retryMs: c.retry,
    authorize,
    onResumeRefused: () => resumeRefused(name, log, logLimited),
  });
}
