/**
 * One connection of an mq publisher: dialled like every broker user's
 * (dial.ts), a channel in confirm mode, the publisher's exchange checked
 * (or declared, when it is the connector's own `exchange` table), and a
 * publish that resolves only once the broker confirmed the message. A
 * mandatory message that no queue took comes back (basic.return, before its
 * confirm) and fails the publish: nothing is dropped without a word.
 *
 * @module
 */

import type { AMQPChannel, AMQPClient } from "@cloudamqp/amqp-client";
import { errorMessage } from "../core/errors.ts";
import { dial } from "./dial.ts";
import type { RabbitSettings } from "./settings.ts";

/** What a publisher's connection needs: the connector's settings and its table. */
export interface PublishSettings extends RabbitSettings {
  readonly exchangeName: string;
  readonly persistent: boolean;
  readonly contentType: string;
  readonly mandatory: boolean;
  readonly confirmTimeoutMs: number;
}

/** An open connection that publishes with confirms. */
export interface PublishChannel {
  readonly client: AMQPClient;
  /** Resolves with the reason once the connection or channel is gone. */
  readonly lost: Promise<string>;
  /** Ends `lost` from our side (a clean close may not report itself). */
  end(reason: string): void;
  /** Publishes waiting for their confirm. */
  readonly pending: number;
  /** Resolves once confirmed; rejects with the reason otherwise. */
  publish(
    routingKey: string,
    body: string,
    messageId: string,
    headers: Readonly<Record<string, string>>,
  ): Promise<void>;
}

/** An exchange the broker does not have; retrying will not help by itself. */
export class MissingExchangeError extends Error {
  override name = "MissingExchangeError";
}

/** Dials, opens a confirm channel and checks the exchange. */
export async function openPublishChannel(
  settings: PublishSettings,
  track: (client: AMQPClient | undefined) => void,
): Promise<PublishChannel> {
  let signal!: (reason: string) => void;
  const lost = new Promise<string>((resolve) => signal = resolve);
  const client = await dial(settings, signal, track);
  track(client);
  try {
    const channel = await client.channel();
    await checkExchange(channel, settings);
    await channel.confirmSelect();
    channel.onerror = (reason) => signal(`channel closed: ${reason}`);
    return publishingOn(client, channel, settings, lost, signal);
  } catch (error) {
    if (!client.closed) await client.close().catch(() => {});
    client.socket?.destroy();
    throw error;
  } finally {
    track(undefined);
  }
}

/**
 * The default exchange ("") and `amq.*` always exist; the connector's own
 * exchange is declared as its source would; any other is only checked, as
 * Mycel leaves the publisher's exchange to whoever owns it.
 */
async function checkExchange(
  channel: AMQPChannel,
  settings: PublishSettings,
): Promise<void> {
  const name = settings.exchangeName;
  if (name === "" || name.startsWith("amq.")) return;
  const own = settings.exchange;
  try {
    if (own !== undefined && own.name === name && !own.passive) {
      await channel.exchangeDeclare(name, own.type, {
        durable: own.durable,
      }, own.arguments);
    } else await channel.exchangeDeclare(name, "topic", { passive: true });
  } catch (error) {
    const reason = errorMessage(error);
    if (!/NOT_FOUND/.test(reason)) throw error;
    throw new MissingExchangeError(
      `the publisher's exchange "${name}" does not exist; declare it, or give it in the connector's exchange table`,
    );
  }
}

function publishingOn(
  client: AMQPClient,
  channel: AMQPChannel,
  settings: PublishSettings,
  lost: Promise<string>,
  end: (reason: string) => void,
): PublishChannel {
  // basic.return comes before the confirm of the same message.
  const returned = new Set<string>();
  channel.onReturn = (message) => {
    const id = message.properties.messageId;
    if (id !== undefined) returned.add(id);
  };
  const deliveryMode = settings.persistent ? 2 : 1;
  let pending = 0;
  return {
    client,
    lost,
    end,
    get pending() {
      return pending;
    },
    async publish(routingKey, body, messageId, headers) {
      pending++;
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          channel.basicPublish(settings.exchangeName, routingKey, body, {
            contentType: settings.contentType,
            deliveryMode,
            messageId,
            timestamp: new Date(),
            appId: "hypha",
            headers,
          }, settings.mandatory),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () =>
                reject(
                  new Error(
                    `no confirm from the broker within ${settings.confirmTimeoutMs} ms`,
                  ),
                ),
              settings.confirmTimeoutMs,
            );
          }),
        ]);
      } finally {
        clearTimeout(timer);
        pending--;
      }
      if (returned.delete(messageId)) {
        throw new Error(
          `no queue is bound to take routing key "${routingKey}" on exchange "${settings.exchangeName}" (returned: mandatory = true)`,
        );
      }
    },
  };
}
