/**
 * The "mq" connector with driver "rabbitmq": consumes one queue and sends
 * every delivery through the flows. Owns the connection's life: connect,
 * declare the topology, consume; on any loss (broker restart, connection cut,
 * channel error, consumer cancelled by the broker) start over after a
 * backoff. Never throws at start: SSE is served while the broker is away.
 *
 * @module
 */

import {
  AMQPClient,
  type AMQPConsumer,
  type AMQPMessage,
} from "@cloudamqp/amqp-client";
import type { MqConnector } from "../config/schema.ts";
import { reconnectDelay } from "./backoff.ts";
import { createDeliveryHandler } from "./rabbitmq_delivery.ts";
import {
  type RabbitSettings,
  resolveRabbitSettings,
} from "./rabbitmq_settings.ts";
import { declareTopology } from "./rabbitmq_topology.ts";
import type { Source, SourceContext, SourceStats } from "./source.ts";

/**
 * A TCP connect to a black-holed address can hang far longer than anyone
 * wants to wait for the first "retrying" line; give up on it after this.
 */
const CONNECT_TIMEOUT_MS = 10_000;

/** An open connection that is consuming. */
interface Session {
  readonly client: AMQPClient;
  readonly consumer: AMQPConsumer;
  /** The queue's name; a server-named queue gets a new one every time. */
  readonly queue: string;
  /** Resolves with the reason once the connection or consumer is gone. */
  readonly lost: Promise<string>;
}

/** Creates the RabbitMQ source of connector `name`. */
export function createRabbitSource(
  name: string,
  connector: MqConnector,
  context: SourceContext,
): Source {
  const settings = resolveRabbitSettings(name, connector);
  const { log } = context;
  const counters: SourceStats = { received: 0, delivered: 0, rejected: {} };
  const onMessage = createDeliveryHandler(
    name,
    settings.autoAck,
    context,
    counters,
  );
  const where = { connector: name, url: settings.safeUrl };

  let stopped = false;
  let current: Session | undefined;
  let connecting: AMQPClient | undefined;
  let wake: (() => void) | undefined;
  let running: Promise<void> | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const connect = async (): Promise<Session> => {
    const client = new AMQPClient(settings.url, undefined, null);
    client.name = settings.connectionName;
    client.heartbeat = settings.heartbeatSeconds;
    connecting = client;
    try {
      const session = await open(client, settings, onMessage);
      if (stopped) throw new Error("stopping");
      return session;
    } catch (error) {
      client.socket?.destroy();
      throw error;
    } finally {
      connecting = undefined;
    }
  };

  const run = async (started: () => void) => {
    let failures = 0;
    while (!stopped) {
      let reason: string;
      try {
        const session = await connect();
        current = session;
        failures = 0;
        log.info("connected", {
          ...where,
          connection_name: settings.connectionName,
          queue: session.queue,
          exchange: settings.exchange?.name,
          prefetch: settings.autoAck ? undefined : settings.prefetch,
        });
        started();
        reason = await session.lost;
        current = undefined;
        if (stopped) return;
        // A channel error leaves the connection open; start clean.
        if (!session.client.closed) session.client.close().catch(() => {});
        log.warn("disconnected", { ...where, reason });
      } catch (error) {
        started();
        if (stopped) return;
        failures++;
        reason = error instanceof Error ? error.message : String(error);
        if (settings.maxReconnects > 0 && failures > settings.maxReconnects) {
          log.error("cannot connect; giving up (max_reconnects reached)", {
            ...where,
            attempts: failures,
            reason,
          });
          return;
        }
      }
      const delay = reconnectDelay(
        Math.max(failures, 1),
        settings.reconnectDelayMs,
      );
      log.warn("retrying", {
        ...where,
        in: `${delay}ms`,
        attempt: failures + 1,
        reason,
      });
      await sleep(delay);
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
      wake?.();
      connecting?.socket?.destroy(new Error("stopping"));
      const session = current;
      if (session !== undefined) {
        // Cancel first so nothing new arrives; the close then hands any
        // unacked delivery back to the broker. Acked ones stay acked.
        await session.consumer.cancel().catch(() => {});
        if (!session.client.closed) {
          await session.client.close("hypha stopping").catch(() => {});
        }
      }
      await running;
    },
    stats: () => ({
      ...structuredClone(counters),
      connected: current !== undefined,
    }),
  };
}

/** Connects `client`, declares the topology and starts consuming. */
async function open(
  client: AMQPClient,
  settings: RabbitSettings,
  onMessage: (message: AMQPMessage) => void,
): Promise<Session> {
  let signal!: (reason: string) => void;
  const lost = new Promise<string>((resolve) => signal = resolve);
  client.ondisconnect = (error) => signal(error?.message ?? "connection lost");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`);
      client.socket?.destroy(error);
      reject(error);
    }, CONNECT_TIMEOUT_MS);
  });
  try {
    await Promise.race([client.connect(), timeout]);
  } finally {
    clearTimeout(timer);
  }
  try {
    const channel = await client.channel();
    const queue = await declareTopology(channel, settings);
    if (!settings.autoAck) await channel.basicQos(settings.prefetch);
    const consumer = await channel.basicConsume(queue, {
      noAck: settings.autoAck,
      tag: settings.tag,
    }, onMessage);
    consumer.wait().then(
      () => signal("consumer closed"),
      (error: Error) => signal(error.message),
    );
    return { client, consumer, queue, lost };
  } catch (error) {
    // Declaring failed (e.g. PRECONDITION_FAILED): drop the connection, so
    // the retry starts from a clean one.
    if (!client.closed) await client.close().catch(() => {});
    throw error;
  }
}
