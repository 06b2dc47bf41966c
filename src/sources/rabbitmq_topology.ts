/**
 * Declares what a RabbitMQ source consumes from: the dead-letter exchange and
 * queue, the exchange, the queue and its bindings. Runs on every (re)connect,
 * because @cloudamqp/amqp-client 4.1.1 does not re-declare anything after a
 * reconnect, and a server-named queue is gone with its connection.
 *
 * @module
 */

import type { AMQPChannel } from "@cloudamqp/amqp-client";
import type { RabbitSettings } from "./rabbitmq_settings.ts";

/** Declares the topology on `channel`; resolves with the queue's name. */
export async function declareTopology(
  channel: AMQPChannel,
  settings: RabbitSettings,
): Promise<string> {
  const { queue, exchange, deadLetter } = settings;
  if (deadLetter !== undefined) {
    // Fanout: every rejected message lands in the DLQ whatever its routing
    // key, which dead-lettering keeps.
    await channel.exchangeDeclare(deadLetter.exchange, "fanout", {
      durable: true,
    });
    await channel.queueDeclare(deadLetter.queue, { durable: true });
    await channel.queueBind(deadLetter.queue, deadLetter.exchange, "");
  }
  if (exchange !== undefined) {
    await channel.exchangeDeclare(exchange.name, exchange.type, {
      durable: exchange.durable,
      passive: exchange.passive,
    });
  }
  const declared = await channel.queueDeclare(queue.name, {
    durable: queue.durable,
    autoDelete: queue.autoDelete,
    exclusive: queue.exclusive,
  }, queue.arguments);
  if (exchange !== undefined) {
    for (const key of exchange.routingKeys) {
      await channel.queueBind(declared.name, exchange.name, key);
    }
  }
  return declared.name;
}
