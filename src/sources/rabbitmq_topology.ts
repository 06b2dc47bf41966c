/**
 * Declares what a RabbitMQ source consumes from: the dead-letter exchange and
 * queue, the exchange, the queue and its bindings. Runs on every (re)connect,
 * because @cloudamqp/amqp-client 4.1.1 does not re-declare anything after a
 * reconnect, and a server-named queue is gone with its connection.
 *
 * With create_if_missing = false a queue or exchange is only checked (a
 * passive declare). What the broker refuses becomes a TopologyError that
 * names the queue or exchange and says what to do.
 *
 * @module
 */

import { errorMessage } from "../core/errors.ts";
import type { AMQPChannel } from "@cloudamqp/amqp-client";
import type { RabbitSettings } from "../rabbitmq/settings.ts";

/** The broker refused a queue or exchange; the source logs it as an ERROR. */
export class TopologyError extends Error {
  override name = "TopologyError";
  constructor(
    /** What to log, e.g. "queue does not exist (...)". */
    readonly summary: string,
    readonly what: "queue" | "exchange",
    readonly entity: string,
    /** The broker's own words, which say the difference. */
    readonly reason: string,
  ) {
    super(`${what} ${entity}: ${reason}`);
  }
}

/** Declares the topology on `channel`; resolves with the queue's name. */
export async function declareTopology(
  channel: AMQPChannel,
  settings: RabbitSettings,
): Promise<{ readonly name: string; readonly messageCount: number }> {
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
    await explain(
      "exchange",
      exchange.name,
      exchange.passive,
      () =>
        channel.exchangeDeclare(exchange.name, exchange.type, {
          durable: exchange.durable,
          passive: exchange.passive,
        }, exchange.arguments),
    );
  }
  const declared = await explain(
    "queue",
    queue.name,
    queue.passive,
    () =>
      channel.queueDeclare(queue.name, {
        durable: queue.durable,
        autoDelete: queue.autoDelete,
        exclusive: queue.exclusive,
        passive: queue.passive,
      }, queue.arguments),
  );
  if (exchange !== undefined) {
    for (const key of exchange.routingKeys) {
      await channel.queueBind(
        declared.name,
        exchange.name,
        key,
        exchange.bindingArguments,
      );
    }
  }
  return declared;
}

/** Runs a declare; turns NOT_FOUND and PRECONDITION_FAILED into advice. */
async function explain<T>(
  what: "queue" | "exchange",
  name: string,
  passive: boolean,
  declare: () => Promise<T>,
): Promise<T> {
  try {
    return await declare();
  } catch (error) {
    const message = errorMessage(error);
    const reason = message.replace(/^channel \d+ closed: /, "");
    if (/NOT_FOUND/.test(message) && passive) {
      throw new TopologyError(
        `${what} does not exist; waiting for it to be declared (${what}.create_if_missing = false)`,
        what,
        name,
        reason,
      );
    }
    if (/PRECONDITION_FAILED/.test(message)) {
      throw new TopologyError(
        `${what} exists with other arguments or settings (the reason says which); make ${what}.args (or durable${
          what === "exchange" ? ", type" : ""
        }) match it, or set ${what}.create_if_missing = false to use it as it is`,
        what,
        name,
        reason,
      );
    }
    throw error;
  }
}
