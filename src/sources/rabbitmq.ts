/**
 * The "mq" connector with driver "rabbitmq": consumes one queue and sends
 * every delivery through the flows. Owns the connection's life: connect,
 * declare the topology, consume; on any loss (broker restart, connection cut,
 * channel error, consumer cancelled by the broker) start over after a
 * backoff. Never throws at start: SSE is served while the broker is away.
 *
 * @module
 */

import type { AMQPClient, AMQPTlsOptions } from "@cloudamqp/amqp-client";
import type { MqConnector } from "../config/schema.ts";
import { createBackoff } from "./backoff.ts";
import { reportFailure } from "./rabbitmq_failure.ts";
import { createDeliveryHandler } from "./rabbitmq_delivery.ts";
import { resolveRabbitSettings } from "./rabbitmq_settings.ts";
import { createPause } from "./pause.ts";
import {
  closeSession,
  connectSession,
  describeSession,
  type Session,
} from "./rabbitmq_session.ts";
import { watchTopology } from "./rabbitmq_watch.ts";
import type { Source, SourceContext, SourceStats } from "./source.ts";

/** Creates the RabbitMQ source of connector `name`. */
export function createRabbitSource(
  name: string,
  connector: MqConnector,
  context: SourceContext,
  /** Client certificate and CA, read at start (see rabbitmq_tls.ts). */
  tlsOptions?: AMQPTlsOptions,
): Source {
  const settings = { ...resolveRabbitSettings(name, connector), tlsOptions };
  const { log } = context;
  const counters: SourceStats = {
    received: 0,
    delivered: 0,
    filtered: 0,
    rejected: {},
  };
  const onMessage = createDeliveryHandler(
    name,
    settings.autoAck,
    context,
    counters,
  );
  const where = { connector: name, url: settings.safeUrl };

  let stopped = false;
  let current: Session | undefined;
  let connections = 0;
  let connecting: AMQPClient | undefined;
  let running: Promise<void> | undefined;
  const pause = createPause();
  let consumed!: () => void;
  const firstConsumed = new Promise<void>((resolve) => consumed = resolve);

  const connect = async (): Promise<Session> => {
    const session = await connectSession(settings, onMessage, (client) => {
      connecting = client;
    });
    if (stopped) {
      await session.client.close().catch(() => {});
      throw new Error("stopping");
    }
    return session;
  };

  const run = async (started: () => void) => {
    let failures = 0;
    // Counts every retry since the last good connection, so the delay
    // doubles from the second retry on (failures alone restarts at 0).
    const backoff = createBackoff(settings.reconnectDelayMs);
    while (!stopped) {
      let reason: string;
      try {
        const session = await connect();
        current = session;
        connections++;
        failures = 0;
        backoff.reset();
        log.info("connected", {
          ...where,
          ...describeSession(settings, session),
        });
        started();
        const unwatch = watchTopology(
          session.client,
          settings,
          session.queue,
          log,
          where,
        );
        consumed();
        reason = await session.lost;
        unwatch();
        current = undefined;
        if (stopped) return;
        // A channel error leaves the connection open; start clean.
        if (!session.client.closed) session.client.close().catch(() => {});
        log.warn("disconnected", { ...where, reason });
      } catch (error) {
        started();
        if (stopped) return;
        failures++;
        reason = reportFailure(log, where, settings.tls, error);
        if (settings.maxReconnects > 0 && failures > settings.maxReconnects) {
          log.error("cannot connect; giving up (max_reconnects reached)", {
            ...where,
            attempts: failures,
            reason,
          });
          return;
        }
      }
      const delay = backoff.next();
      log.warn("retrying", {
        ...where,
        in: `${delay}ms`,
        attempt: failures + 1,
        reason,
      });
      await pause.sleep(delay);
    }
  };

  return {
    name,
    start() {
      return new Promise<void>((resolve) => {
        running = run(resolve);
      });
    },
    async stop() {
      stopped = true;
      pause.wake();
      connecting?.socket?.destroy(new Error("stopping"));
      if (current !== undefined) await closeSession(current);
      await running;
    },
    firstConsumed,
    stats: () => ({
      ...structuredClone(counters),
      connected: current !== undefined,
      // A session exists only once basicConsume succeeded.
      consuming: current !== undefined,
      reconnects: Math.max(0, connections - 1),
    }),
  };
}
