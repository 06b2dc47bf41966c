/**
 * What a test's own consumer sees of messages hypha published: a queue of
 * the test's, bound to the exchange hypha publishes to, read with basic.get.
 */

import type { AMQPMessage } from "@cloudamqp/amqp-client";
import type { Broker } from "./rabbitmq.ts";
import { eventually } from "./rabbitmq.ts";

/** One message as the consumer got it. */
export interface Published {
  readonly routingKey: string;
  readonly body: string;
  readonly contentType?: string;
  readonly deliveryMode?: number;
  readonly messageId?: string;
  readonly headers: Record<string, unknown>;
}

/** Declares `exchange` (topic, not durable) and `queue` bound to it with "#". */
export async function watchExchange(
  broker: Broker,
  exchange: string,
  queue: string,
): Promise<void> {
  await broker.channel.exchangeDeclare(exchange, "topic", { durable: false });
  await broker.channel.queueDeclare(queue, { durable: false });
  await broker.channel.queueBind(queue, exchange, "#");
}

/** Takes `count` messages off `queue`, waiting for them to arrive. */
export async function takePublished(
  broker: Broker,
  queue: string,
  count: number,
): Promise<Published[]> {
  const taken: Published[] = [];
  await eventually(`${count} messages on ${queue}`, async () => {
    for (;;) {
      const message = await broker.channel.basicGet(queue, { noAck: true });
      if (message === null) return taken.length >= count;
      taken.push(describe(message));
    }
  });
  return taken;
}

function describe(message: AMQPMessage): Published {
  const p = message.properties;
  return {
    routingKey: message.routingKey,
    body: message.bodyToString() ?? "",
    contentType: p.contentType,
    deliveryMode: p.deliveryMode,
    messageId: p.messageId,
    headers: p.headers ?? {},
  };
}
