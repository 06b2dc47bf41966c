/**
 * A consumer of a stream from a given offset. Streams need manual acks and
 * a prefetch (the broker's credit); the offset of each message is in its
 * `x-stream-offset` header.
 *
 * @module
 */

import type {
  AMQPChannel,
  AMQPConsumer,
  AMQPMessage,
} from "@cloudamqp/amqp-client";

/** Where a consumer starts: an offset, "first", "last", "next" or a time. */
export type StreamStart = number | "first" | "last" | "next" | Date;

/**
 * Acks go out for every this many messages at once (multiple = true): a
 * stream's acks are only credit, and fewer frames let more events through.
 */
const ACK_EVERY = 50;

/** Consumes `stream` on `channel` from `from`, acking as it goes. */
export async function consumeStream(
  channel: AMQPChannel,
  stream: string,
  from: StreamStart,
  prefetch: number,
  onMessage: (offset: number, message: AMQPMessage) => void,
): Promise<AMQPConsumer> {
  await channel.basicQos(prefetch);
  return await channel.basicConsume(stream, {
    noAck: false,
    args: { "x-stream-offset": from },
  }, (message) => {
    if (message.deliveryTag % ACK_EVERY === 0) {
      message.ack(true).catch(() => {});
    }
    onMessage(Number(message.properties.headers?.["x-stream-offset"]), message);
  });
}
