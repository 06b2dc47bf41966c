/**
 * One SSE connector from its config: an event log, the hub over it, and the
 * listener that serves its path.
 *
 * @module
 */

import type { AMQPTlsOptions } from "@cloudamqp/amqp-client";
import {
  presenceLinkOptions,
  streamLogOptions,
} from "./cluster/cluster_config.ts";
import { createPresenceLink } from "./cluster/presence_link.ts";
import { createStreamLog } from "./cluster/stream_log.ts";
import { guardsConnections } from "./config/loopback.ts";
import {
  type MqConnector,
  presence as presenceSchema,
  type SseConnector,
} from "./config/schema.ts";
import type { ConnectionWatcher } from "./core/hub/connection.ts";
import type { EventLog } from "./core/history/event_log.ts";
import type { Slots } from "./core/http/slots.ts";
import type { Authorizer } from "./core/http/handler.ts";
import type { Listener } from "./core/http/http.ts";
import { createHub, type Hub } from "./core/hub/hub.ts";
import type { Logger } from "./core/log.ts";
import { rateLimited } from "./core/rate_limited.ts";
import { createMemoryLog } from "./core/history/memory_log.ts";
import type { MercureAuthorizer } from "./mercure/authorizer.ts";
import { createPresence, type Presence } from "./presence/tracker.ts";
import { frontEnd } from "./sse_front.ts";

/** The mq connector holding a cluster's stream, with its TLS material. */
export interface BrokerStore {
  readonly connector: MqConnector;
  readonly tlsOptions?: AMQPTlsOptions;
}

/** A configured SSE connector. */
export interface SseConnectorParts {
  readonly hub: Hub;
  /** When `[connector.<sse>.presence]` is set or a flow reads the connector. */
  readonly presence?: Presence;
  readonly listener: Listener;
  /** Readies the log (a cluster's attaches to its stream); before serving. */
  start(): Promise<void>;
  /** Closes the log, after the hub. */
  stop(): Promise<void>;
}

/**
 * How a connector runs with delivery threads (src/workers): the owning
 * thread tees its log to the threads; a thread serves over the owning
 * thread's log, with limits and presence counted across threads.
 */
export interface ThreadedParts {
  /** Owning thread: wraps the log it creates. */
  readonly teeLog?: (log: EventLog) => EventLog;
  /** Delivery thread: the log it reads instead of creating one. */
  readonly eventLog?: EventLog;
  readonly slots?: Slots;
  readonly watcher?: ConnectionWatcher;
  /** Connections of every thread, for /healthz. */
  readonly size?: () => number;
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
  store: BrokerStore | undefined,
  /** This process's id, when presence is on for the connector. */
  presenceOf?: { readonly instance: string },
  threaded: ThreadedParts = {},
): SseConnectorParts {
  const logLimited = rateLimited(10_000);
  const ownLog: EventLog & { start?: () => Promise<void> } =
    threaded.eventLog ?? createLog(name, c, store, log);
  const eventLog = threaded.teeLog?.(ownLog) ?? ownLog;
  const presence = presenceOf &&
    makePresence(name, c, presenceOf.instance, store, log);
  const hub = createHub({
    watcher: threaded.watcher ?? presence?.watcher,
    presence: presence?.totals,
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
  const fetch = frontEnd(
    name,
    c,
    sizedBy(hub, threaded.size),
    log,
    authorize,
    logLimited,
    // A delivery thread's handler: the main thread warned already.
    { slots: threaded.slots, quiet: threaded.eventLog !== undefined },
  );
  return {
    hub,
    presence,
    start: async () => {
      await ownLog.start?.();
      presence?.start();
    },
    stop: async () => {
      await presence?.stop();
      await ownLog.close();
      logLimited.flush();
    },
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

/** The presence of connector `name`; over RabbitMQ when it is clustered. */
function makePresence(
  name: string,
  c: SseConnector,
  instance: string,
  store: BrokerStore | undefined,
  log: Logger,
): Presence {
  const settings = c.presence ?? presenceSchema.parse({});
  const clustered = store !== undefined && c.history.store !== undefined;
  return createPresence({
    connector: name,
    instance,
    vacateAfterMs: settings.vacate_after,
    maxMembers: settings.members ? settings.max_members : undefined,
    joinLeave: settings.join_leave,
    channel: clustered
      ? createPresenceLink(
        presenceLinkOptions(
          name,
          c,
          c.history.store!,
          store.connector,
          log,
          store.tlsOptions,
        ),
      )
      : undefined,
    log,
  });
}

/** `hub`, with the size of every thread when there are several. */
function sizedBy(hub: Hub, size: (() => number) | undefined): Hub {
  if (size === undefined) return hub;
  return Object.defineProperty(Object.create(hub), "size", { get: size });
}
