/**
 * One RabbitMQ connection of a source: connect (with a timeout), declare the
 * topology, consume. It ends, with a reason, when the connection or the
 * consumer is lost; the source then starts over.
 *
 * @module
 */

import type {
  AMQPClient,
  AMQPConsumer,
  AMQPMessage,
} from "@cloudamqp/amqp-client";
import { errorMessage } from "../core/errors.ts";
import { dial } from "../rabbitmq/dial.ts";
import type { RabbitSettings } from "../rabbitmq/settings.ts";
import type { StartupHold } from "./startup_grace.ts";
import { declareTopology } from "./rabbitmq_topology.ts";

/** The source's settings, with the startup grace the app gives it. */
export type SourceSettings = RabbitSettings & {
  readonly hold?: StartupHold;
};

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
  settings: SourceSettings,
  onMessage: (message: AMQPMessage) => void,
  track: (client: AMQPClient | undefined) => void,
): Promise<Session> {
  let signal!: (reason: string) => void;
  const lost = new Promise<string>((resolve) => signal = resolve);
  const client = await dial(settings, signal, track);
  // Tracked until it consumes: a stop during the startup grace cuts it.
  track(client);
  try {
    const { queue, consumer } = await consume(client, settings, onMessage);
    consumer.wait().then(
      () => signal("consumer closed"),
      (error: Error) => signal(errorMessage(error)),
    );
    return { client, consumer, queue, lost };
  } catch (error) {
    // Declaring failed (e.g. PRECONDITION_FAILED): drop the connection, so
    // the retry starts from a clean one.
    if (!client.closed) await client.close().catch(() => {});
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

/** Declares the topology on `client` and starts consuming. */
async function consume(
  client: AMQPClient,
  settings: SourceSettings,
  onMessage: (message: AMQPMessage) => void,
): Promise<{ queue: string; consumer: AMQPConsumer }> {
  const channel = await client.channel();
  const { name: queue, messageCount } = await declareTopology(
    channel,
    settings,
  );
  await settings.hold?.wait(messageCount);
  if (!settings.autoAck) await channel.basicQos(settings.prefetch);
  const consumer = await channel.basicConsume(queue, {
    noAck: settings.autoAck,
    tag: settings.tag,
  }, onMessage);
  return { queue, consumer };
}
