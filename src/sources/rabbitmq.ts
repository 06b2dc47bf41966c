/**
 * The "mq" connector with driver "rabbitmq": consumes one queue and sends
 * every delivery through the flows. Owns the connection's life: connect,
 * declare the topology, consume; on any loss (broker restart, connection cut,
 * channel error, consumer cancelled by the broker) start over after a
 * backoff. Never throws at start: SSE is served while the broker is away.
 *
 * @module
 */

import type { AMQPTlsOptions } from "@cloudamqp/amqp-client";
import type { MqConnector } from "../config/schema.ts";
import { ACK_DELAY_MS, ackBatch, createAcker } from "./rabbitmq_acks.ts";
import { createDeliveryHandler } from "./rabbitmq_delivery.ts";
import { keepConnected, type LoopState } from "./rabbitmq_loop.ts";
import { resolveRabbitSettings } from "../rabbitmq/settings.ts";
import { createPause } from "../rabbitmq/pause.ts";
import { closeSession } from "./rabbitmq_session.ts";
import type { Source, SourceContext, SourceStats } from "./source.ts";

/** Creates the RabbitMQ source of connector `name`. */
export function createRabbitSource(
  name: string,
  connector: MqConnector,
  context: SourceContext,
  /** Client certificate and CA, read at start (see rabbitmq_tls.ts). */
  tlsOptions?: AMQPTlsOptions,
): Source {
  const settings = {
    ...resolveRabbitSettings(name, connector),
    tlsOptions,
    hold: context.hold,
  };
  const { log } = context;
  const counters: SourceStats = {
    received: 0,
    delivered: 0,
    filtered: 0,
    rejected: {},
  };
  const acker = createAcker({
    delayMs: ACK_DELAY_MS,
    batch: ackBatch(settings.prefetch),
  });
  const onMessage = createDeliveryHandler(
    name,
    settings.autoAck,
    context,
    counters,
    acker,
  );

  const state: LoopState = {
    stopped: false,
    current: undefined,
    connections: 0,
    connecting: undefined,
    pause: createPause(),
  };
  let running: Promise<void> | undefined;

  return {
    name,
    start() {
      return new Promise<void>((resolve) => {
        running = keepConnected(name, state, settings, onMessage, log, {
          started: resolve,
        });
      });
    },
    async stop() {
      state.stopped = true;
      state.pause.wake();
      state.connecting?.socket?.destroy(new Error("stopping"));
      // What waits to be requeued goes back now; what was routed is acked
      // before the close, not redelivered after.
      onMessage.stop();
      acker.flush();
      if (state.current !== undefined) await closeSession(state.current);
      await running;
    },
    stats: () => ({
      ...structuredClone(counters),
      connected: state.current !== undefined,
      // A session exists only once basicConsume succeeded.
      consuming: state.current !== undefined,
      held: settings.hold?.active || undefined,
      reconnects: Math.max(0, state.connections - 1),
    }),
  };
}
