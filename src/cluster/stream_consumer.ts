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

/** Consumes `stream` on `channel` from `from`, acking every message. */
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
    message.ack().catch(() => {});
    onMessage(Number(message.properties.headers?.["x-stream-offset"]), message);
  });
}
