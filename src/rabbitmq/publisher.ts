/**
 * The mq connector's `publisher`: a flow target that publishes to RabbitMQ
 * with confirms. Its connection is its own (`<connection_name>.publish`,
 * beside the connector's consumer, so flow control on one never stalls the
 * other), kept by the reconnect loop every broker user runs. While it is
 * down nothing is buffered: a publish is refused at once (UnavailableError:
 * REST answers 503 with Retry-After, RabbitMQ input is requeued).
 *
 * @module
 */

import type { AMQPTlsOptions } from "@cloudamqp/amqp-client";
import type { MqConnector } from "../config/schema.ts";
import type { Logger } from "../core/log.ts";
import type { Target } from "../core/flows/target.ts";
import { createPause } from "./pause.ts";
import type { PublishSettings } from "./publish_channel.ts";
import { publisherCore } from "./publisher_send.ts";
import {
  closePublisherSession,
  keepPublisherConnected,
  type PublisherState,
} from "./publisher_session.ts";
import { type PublisherStats, publisherStats } from "./publisher_stats.ts";
import { publisherTarget } from "./publisher_target.ts";
import { resolveRabbitSettings } from "./settings.ts";

export type { PublisherStats };

/** A running publisher. */
export interface Publisher {
  readonly name: string;
  /** The target of flow `flow`, fed by source connector `source`. */
  target(flow: string, source: string): Target;
  /** Starts connecting; resolves after the first attempt (it keeps retrying). */
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): PublisherStats;
}

/** Seconds a refused publisher should wait: the first reconnect delay, at least 1. */
const retryAfter = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** Creates the publisher of mq connector `name` (which has a `publisher` table). */
export function createPublisher(
  name: string,
  c: MqConnector,
  log: Logger,
  tlsOptions?: AMQPTlsOptions,
): Publisher {
  const table = c.publisher!;
  const settings = publishSettings(name, c, tlsOptions);
  const where = {
    connector: name,
    url: settings.safeUrl,
    exchange: table.exchange || "(default)",
  };
  const state: PublisherState = {
    stopped: false,
    current: undefined,
    connecting: undefined,
    connections: 0,
    pause: createPause(),
  };
  const counters = { published: 0, refused: 0, failed: 0 };
  const core = publisherCore(
    {
      name,
      routingKey: table.routing_key,
      maxPending: table.max_pending,
      retryAfterSeconds: retryAfter(settings.reconnectDelayMs),
      where,
      log,
    },
    state,
    counters,
  );
  let running: Promise<void> | undefined;
  return {
    name,
    target: (flow, source) => publisherTarget(core, flow, source),
    start() {
      return new Promise<void>((resolve) => {
        running = keepPublisherConnected(state, settings, where, log, resolve);
      });
    },
    async stop() {
      await closePublisherSession(state);
      await running;
      core.flushLogs();
    },
    stats: () => publisherStats(state, counters),
  };
}

/** The connector's settings with its publisher table, on a connection of its own. */
function publishSettings(
  name: string,
  c: MqConnector,
  tlsOptions: AMQPTlsOptions | undefined,
): PublishSettings {
  const table = c.publisher!;
  const base = resolveRabbitSettings(name, c);
  return {
    ...base,
    tlsOptions,
    connectionName: `${base.connectionName}.publish`,
    exchangeName: table.exchange,
    persistent: table.persistent,
    contentType: table.content_type,
    mandatory: table.mandatory,
    confirmTimeoutMs: table.confirm_timeout,
  };
}
