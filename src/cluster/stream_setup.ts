/**
 * Setting up a cluster's stream on a fresh connection: declare it with its
 * retention (refusing a queue of another kind under that name), and learn
 * its epoch. The epoch is the `ep` of the stream's first readable record:
 * every event and hello record carries the epoch its writer adopted, and
 * an epoch proposal counts only as the very first record (offset 0). An
 * empty stream gets a proposal; when instances race, the first one wins for
 * all of them.
 *
 * @module
 */

import { errorMessage } from "../core/errors.ts";
import type { AMQPChannel, AMQPClient } from "@cloudamqp/amqp-client";
import { isEpoch, newEpoch } from "./event_id.ts";
import { decodeRecord, encodeEpochRecord } from "./record.ts";
import { FatalLinkError } from "./stream_link.ts";

/** The stream and its retention, as declared. */
export interface StreamSpec {
  readonly name: string;
  /** x-max-age; 0 = none. */
  readonly maxAgeMs: number;
  /** x-max-length-bytes; 0 = none. */
  readonly maxBytes: number;
}

/** How long the first record may take before the stream counts as empty. */
const FIRST_RECORD_WAIT_MS = 1_500;
const EPOCH_ATTEMPTS = 5;

/**
 * Declare arguments of the stream. Retention drops whole segments, so the
 * segment size follows max_bytes (an eighth of it, within the broker's
 * default of 500 MB): otherwise a small max_bytes would never drop anything.
 */
export function streamArguments(spec: StreamSpec): Record<string, unknown> {
  const args: Record<string, unknown> = { "x-queue-type": "stream" };
  if (spec.maxAgeMs > 0) {
    args["x-max-age"] = `${Math.max(1, Math.ceil(spec.maxAgeMs / 1000))}s`;
  }
  if (spec.maxBytes > 0) {
    args["x-max-length-bytes"] = spec.maxBytes;
    args["x-stream-max-segment-size-bytes"] = Math.max(
      4096,
      Math.min(500_000_000, Math.floor(spec.maxBytes / 8)),
    );
  }
  return args;
}

/** Declares the stream; a queue of another kind is a fatal error. */
export async function declareStream(
  client: AMQPClient,
  spec: StreamSpec,
): Promise<void> {
  const channel = await client.channel();
  try {
    await channel.queueDeclare(
      spec.name,
      { durable: true },
      streamArguments(spec),
    );
  } catch (error) {
    const reason = errorMessage(error);
    if (!reason.includes("PRECONDITION_FAILED")) throw error;
    const kind = /x-queue-type|'durable'|'exclusive'|'auto_delete'/.test(reason)
      ? "exists and is not a stream (x-queue-type = stream)"
      : "exists with other retention arguments than history.ttl and history.max_bytes ask for";
    throw new FatalLinkError(
      `queue "${spec.name}" ${kind}; the broker said: ${reason}`,
    );
  } finally {
    if (!channel.closed) await channel.close().catch(() => {});
  }
}

/** Finds the stream's epoch, proposing one when the stream is empty. */
export async function discoverEpoch(
  client: AMQPClient,
  stream: string,
): Promise<string> {
  for (let attempt = 0; attempt < EPOCH_ATTEMPTS; attempt++) {
    const channel = await client.channel();
    try {
      const found = await firstEpoch(channel, stream);
      if (found !== undefined) return found;
      await channel.confirmSelect();
      await channel.basicPublish("", stream, encodeEpochRecord(newEpoch()), {
        deliveryMode: 2,
      });
    } finally {
      if (!channel.closed) await channel.close().catch(() => {});
    }
  }
  throw new Error(`stream "${stream}": no readable first record`);
}

/** The epoch the first records say, or undefined when none arrive in time. */
function firstEpoch(
  channel: AMQPChannel,
  stream: string,
): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (epoch: string | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(epoch);
    };
    const timer = setTimeout(() => finish(undefined), FIRST_RECORD_WAIT_MS);
    channel.basicQos(100)
      .then(() =>
        channel.basicConsume(stream, {
          noAck: false,
          args: { "x-stream-offset": "first" },
        }, (message) => {
          message.ack().catch(() => {});
          const record = decodeRecord(message.body);
          if (record === undefined || !isEpoch(record.epoch)) return;
          const offset = message.properties.headers?.["x-stream-offset"];
          if (record.kind === "epoch" && offset !== 0) return;
          finish(record.epoch);
        })
      )
      .catch((error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        reject(error);
      });
  });
}
