/**
 * A clustered SSE connector's log from the config: `history.store` names the
 * mq connector whose broker holds the stream (its URL, TLS material,
 * heartbeat and reconnect delay are used); `history.stream` names the stream (default
 * `hypha.<sse connector name>`); `history.ttl` and `history.max_bytes` are
 * the stream's retention; `history.size` bounds the local cache.
 *
 * @module
 */

import type { AMQPTlsOptions } from "@cloudamqp/amqp-client";
import type { MqConnector, SseConnector } from "../config/schema.ts";
import type { Logger } from "../core/log.ts";
import { resolveRabbitSettings } from "../rabbitmq/settings.ts";
import type { StreamLogOptions } from "./stream_log.ts";
import type { PresenceLinkOptions } from "./presence_link.ts";

/** The stream a clustered SSE connector uses when none is named. */
export function defaultStreamName(sseName: string): string {
  return `hypha.${sseName}`;
}

/** Options of the stream log of SSE connector `name`. */
export function streamLogOptions(
  name: string,
  c: SseConnector,
  storeName: string,
  store: MqConnector,
  log: Logger,
  tlsOptions?: AMQPTlsOptions,
): StreamLogOptions {
  const settings = resolveRabbitSettings(storeName, store);
  const stream = c.history.stream ?? defaultStreamName(name);
  return {
    stream: {
      name: stream,
      maxAgeMs: c.history.ttl,
      maxBytes: c.history.max_bytes,
    },
    url: settings.url,
    tlsOptions,
    // Its own name, so operators (and tests) can tell it from the source's.
    connectionName: `${settings.connectionName}.stream.${name}`,
    heartbeatSeconds: settings.heartbeatSeconds,
    reconnectDelayMs: settings.reconnectDelayMs,
    cacheSize: c.history.size,
    cacheBytes: c.history.max_bytes,
    log,
    where: { connector: name, stream, url: settings.safeUrl },
  };
}

/** A snapshot older than this is dropped by the broker (per-message TTL). */
const PRESENCE_TTL_MS = 5_000;

/**
 * Options of the presence link of clustered SSE connector `name`: the
 * exchange is `presence.exchange`, else `<stream>.presence`.
 */
export function presenceLinkOptions(
  name: string,
  c: SseConnector,
  storeName: string,
  store: MqConnector,
  log: Logger,
  tlsOptions?: AMQPTlsOptions,
): PresenceLinkOptions {
  const settings = resolveRabbitSettings(storeName, store);
  const exchange = c.presence?.exchange ??
    `${c.history.stream ?? defaultStreamName(name)}.presence`;
  return {
    exchange,
    ttlMs: PRESENCE_TTL_MS,
    url: settings.url,
    tlsOptions,
    connectionName: `${settings.connectionName}.presence.${name}`,
    heartbeatSeconds: settings.heartbeatSeconds,
    reconnectDelayMs: settings.reconnectDelayMs,
    log,
    where: { connector: name, exchange, url: settings.safeUrl },
  };
}
