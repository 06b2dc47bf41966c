/**
 * One RabbitMQ connection of a source: connect (with a timeout), declare the
 * topology, consume. It ends, with a reason, when the connection or the
 * consumer is lost; the source then starts over.
 *
 * @module
 */

import { errorMessage } from "../core/errors.ts";
import {
  AMQPClient,
  type AMQPConsumer,
  type AMQPMessage,
} from "@cloudamqp/amqp-client";
import type { RabbitSettings } from "./rabbitmq_settings.ts";
import { declareTopology } from "./rabbitmq_topology.ts";

/**
 * A TCP connect to a black-holed address can hang far longer than anyone
 * wants to wait for the first "retrying" line; give up on it after this.
 */
const CONNECT_TIMEOUT_MS = 10_000;

/** An open connection that is consuming. */
export interface Session {
  readonly client: AMQPClient;
  readonly consumer: AMQPConsumer;
  /** The queue's name; a server-named queue gets a new one every time. */
  readonly queue: string;
  /** Resolves with the reason once the connection or consumer is gone. */
  readonly lost: Promise<string>;
}

/** A new client for `settings`; `track` sees it while it connects. */
export async function connectSession(
  settings: RabbitSettings,
  onMessage: (message: AMQPMessage) => void,
  track: (client: AMQPClient | undefined) => void,
): Promise<Session> {
  const client = new AMQPClient(settings.url, settings.tlsOptions, null);
  client.name = settings.connectionName;
  client.heartbeat = settings.heartbeatSeconds;
  track(client);
  try {
    return await open(client, settings, onMessage);
  } catch (error) {
    client.socket?.destroy();
    throw error;
  } finally {
    track(undefined);
  }
}

/** Fields of the "connected" log line. */
export function describeSession(settings: RabbitSettings, session: Session) {
  return {
    connection_name: settings.connectionName,
    queue: session.queue,
    exchange: settings.exchange?.name,
    prefetch: settings.autoAck ? undefined : settings.prefetch,
  };
}

/**
 * Cancels first so nothing new arrives; the close then hands any unacked
 * delivery back to the broker. Acked ones stay acked.
 */
export async function closeSession(session: Session): Promise<void> {
  await session.consumer.cancel().catch(() => {});
  if (!session.client.closed) {
    await session.client.close("hypha stopping").catch(() => {});
  }
}

/** Connects `client`, declares the topology and starts consuming. */
async function open(
  client: AMQPClient,
  settings: RabbitSettings,
  onMessage: (message: AMQPMessage) => void,
): Promise<Session> {
  let signal!: (reason: string) => void;
  const lost = new Promise<string>((resolve) => signal = resolve);
  client.ondisconnect = (error) =>
    signal(error === undefined ? "connection lost" : errorMessage(error));
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
      (error: Error) => signal(errorMessage(error)),
    );
    return { client, consumer, queue, lost };
  } catch (error) {
    // Declaring failed (e.g. PRECONDITION_FAILED): drop the connection, so
    // the retry starts from a clean one.
    if (!client.closed) await client.close().catch(() => {});
    throw error;
  }
}
