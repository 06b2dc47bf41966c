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

import type { AMQPClient, AMQPTlsOptions } from "@cloudamqp/amqp-client";
import type { MqConnector } from "../config/schema.ts";
import { errorMessage } from "../core/errors.ts";
import { type Logger, rateLimited } from "../core/log.ts";
import type { Target } from "../core/target.ts";
import { createPause } from "./pause.ts";
import {
  MissingExchangeError,
  openPublishChannel,
  type PublishChannel,
  type PublishSettings,
} from "./publish_channel.ts";
import { type PublisherCore, publisherTarget } from "./publisher_target.ts";
import { reconnectLoop } from "./reconnect.ts";
import { resolveRabbitSettings } from "./settings.ts";
import { tlsAdvice } from "./tls.ts";

/** Counters of one publisher, shown on /stats and as metrics. */
export interface PublisherStats {
  connected: boolean;
  /** Messages the broker confirmed. */
  published: number;
  /** Publishes refused at once: broker away or blocked, max_pending reached. */
  refused: number;
  /** Publishes sent and not confirmed (nack, returned, timeout, connection lost). */
  failed: number;
  /** Publishes waiting for their confirm now. */
  pending: number;
  /** Connections made after the first one. */
  reconnects: number;
}

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
  const base = resolveRabbitSettings(name, c);
  const settings: PublishSettings = {
    ...base,
    tlsOptions,
    connectionName: `${base.connectionName}.publish`,
    exchangeName: table.exchange,
    persistent: table.persistent,
    contentType: table.content_type,
    mandatory: table.mandatory,
    confirmTimeoutMs: table.confirm_timeout,
  };
  const where = {
    connector: name,
    url: settings.safeUrl,
    exchange: table.exchange || "(default)",
  };
  const counters = { published: 0, refused: 0, failed: 0, connections: 0 };
  const pause = createPause();
  const logFailure = rateLimited(10_000);
  let stopped = false;
  let current: PublishChannel | undefined;
  let connecting: AMQPClient | undefined;
  let running: Promise<void> | undefined;

  const core: PublisherCore & { retryAfterSeconds: number } = {
    routingKey: table.routing_key,
    retryAfterSeconds: retryAfter(settings.reconnectDelayMs),
    // Asked once per message and flow, just before sending: a reason here
    // refuses the message, so it is counted here.
    away() {
      const reason = current === undefined
        ? "not connected to the broker"
        : current.client.blocked !== undefined
        ? `the broker blocks publishing (${current.client.blocked})`
        : current.pending >= table.max_pending
        ? `${current.pending} publishes wait for the broker's confirm (publisher.max_pending)`
        : undefined;
      if (reason === undefined) return undefined;
      counters.refused++;
      return `connector ${name}: ${reason}`;
    },
    async publish(routingKey, body, messageId, headers) {
      const channel = current;
      if (channel === undefined) {
        counters.failed++;
        throw new Error(`connector ${name}: not connected to the broker`);
      }
      try {
        await channel.publish(routingKey, body, messageId, headers);
        counters.published++;
      } catch (error) {
        counters.failed++;
        const reason = errorMessage(error);
        logFailure(name, (suppressed) =>
          log.warn("publish failed", {
            ...where,
            routing_key: routingKey,
            reason,
            count: suppressed || undefined,
          }));
        throw new Error(`connector ${name}: ${reason}`);
      }
    },
  };

  const run = (started: () => void) =>
    reconnectLoop<PublishChannel>({
      open: async () => {
        const channel = await openPublishChannel(settings, (client) => {
          connecting = client;
        });
        if (stopped) {
          await channel.client.close().catch(() => {});
          throw new Error("stopping");
        }
        return channel;
      },
      up(channel) {
        current = channel;
        counters.connections++;
        log.info("publisher connected", {
          ...where,
          connection_name: settings.connectionName,
        });
        started();
      },
      down(channel, reason) {
        current = undefined;
        if (stopped) return;
        if (!channel.client.closed) channel.client.close().catch(() => {});
        log.warn("publisher disconnected", { ...where, reason });
      },
      failed(error, failures) {
        started();
        if (stopped) return undefined;
        const reason = errorMessage(error);
        const advice = settings.tls ? tlsAdvice(reason) : undefined;
        if (error instanceof MissingExchangeError || advice !== undefined) {
          log.error("publisher cannot connect", { ...where, reason, advice });
        }
        if (settings.maxReconnects > 0 && failures > settings.maxReconnects) {
          log.error("cannot connect; giving up (max_reconnects reached)", {
            ...where,
            attempts: failures,
            reason,
          });
          return undefined;
        }
        return reason;
      },
      retrying(delay, attempt, reason) {
        log.warn("publisher retrying", {
          ...where,
          in: `${delay}ms`,
          attempt,
          reason,
        });
      },
    }, {
      firstDelayMs: settings.reconnectDelayMs,
      pause,
      stopped: () => stopped,
    });

  return {
    name,
    target: (flow, source) => publisherTarget(core, flow, source),
    start() {
      return new Promise<void>((resolve) => {
        running = run(resolve);
      });
    },
    async stop() {
      stopped = true;
      pause.wake();
      connecting?.socket?.destroy(new Error("stopping"));
      const channel = current;
      current = undefined;
      if (channel !== undefined && !channel.client.closed) {
        await channel.client.close("hypha stopping").catch(() => {});
      }
      channel?.end("stopping");
      await running;
    },
    stats: () => ({
      connected: current !== undefined,
      published: counters.published,
      refused: counters.refused,
      failed: counters.failed,
      pending: current?.pending ?? 0,
      reconnects: Math.max(0, counters.connections - 1),
    }),
  };
}
