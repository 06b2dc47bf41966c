/**
 * Where an instance's tail consumer starts on the cluster's stream, and
 * where a resume starts on it.
 *
 * @module
 */

import type {
  AMQPChannel,
  AMQPClient,
  AMQPConsumer,
} from "@cloudamqp/amqp-client";
import type { ResumeStart } from "../core/history/event_log.ts";
import { parseId } from "./event_id.ts";
import { decodeRecord, encodeHelloRecord } from "./record.ts";
import { consumeStream } from "./stream_consumer.ts";
import type { Tail } from "./stream_tail.ts";
import { waitFor } from "./wait.ts";

const TAIL_PREFETCH = 1_000;
const HELLO_TIMEOUT_MS = 15_000;
/** How long a resume waits for the tail to reach an id from another instance. */
const CATCH_UP_MS = 3_000;
/**
 * The hello marker is looked for from this long before it was written: the
 * broker's chunk timestamps, not this host's clock, place the start.
 */
const CLOCK_SLACK_MS = 30_000;

/**
 * Follows the stream from where the tail stopped. A recreated stream (after
 * a reset) is followed from its first record, all of it delivered: every
 * event of the new stream is one this instance's clients missed. A new tail
 * writes a hello marker, starts the dedupe window's span of offsets before
 * it (so its duplicate decisions match every other instance's) and
 * delivers from the marker on.
 */
export async function follow(
  tail: Tail,
  client: AMQPClient,
  publisher: AMQPChannel,
  stream: string,
  marker: string,
): Promise<AMQPConsumer> {
  const consumer = await client.channel();
  if (tail.offset >= 0 || tail.recreated) {
    if (tail.offset < 0) tail.dedupe.start(0);
    // Right after the last record seen: nothing twice, nothing skipped.
    const from = tail.offset + 1;
    return consumeStream(consumer, stream, from, TAIL_PREFETCH, tail.onMessage);
  }
  const since = new Date(Date.now() - CLOCK_SLACK_MS);
  await publisher.basicPublish(
    "",
    stream,
    encodeHelloRecord(tail.epoch, marker),
  );
  const at = await findHello(client, stream, since, marker);
  const start = Math.max(0, at - tail.dedupe.span);
  tail.dedupe.start(start);
  const seen = tail.expectHello(marker);
  const following = await consumeStream(
    consumer,
    stream,
    start,
    TAIL_PREFETCH,
    tail.onMessage,
  );
  await waitFor(seen, HELLO_TIMEOUT_MS, "own hello record on the tail");
  return following;
}

/** The offset of the hello record `nonce`, read from `since` on. */
async function findHello(
  client: AMQPClient,
  stream: string,
  since: Date,
  nonce: string,
): Promise<number> {
  const channel = await client.channel();
  try {
    let found!: (offset: number) => void;
    const offset = new Promise<number>((resolve) => found = resolve);
    await consumeStream(
      channel,
      stream,
      since,
      TAIL_PREFETCH,
      (at, message) => {
        const record = decodeRecord(message.body);
        if (record?.kind === "hello" && record.nonce === nonce) found(at);
      },
    );
    return await waitFor(offset, HELLO_TIMEOUT_MS, "own hello record");
  } finally {
    channel.close().catch(() => {});
  }
}

/** Where a client that last saw `lastEventId` resumes. */
export async function resumeStart(
  tail: Tail,
  lastEventId: string,
  maxReplay: number,
): Promise<ResumeStart> {
  const parsed = parseId(lastEventId);
  if (parsed === undefined) return { kind: "gap", reason: "malformed" };
  if (tail.epoch === "" || parsed.epoch !== tail.epoch) {
    return { kind: "gap", reason: "unknown" };
  }
  if (tail.offset - parsed.offset > maxReplay) {
    return { kind: "gap", reason: "expired" };
  }
  // The id may come from an instance whose tail is a little ahead.
  if (!(await tail.reaches(parsed.offset, CATCH_UP_MS))) {
    return { kind: "gap", reason: "unknown" };
  }
  if (parsed.offset >= tail.offset) return { kind: "live" };
  return { kind: "replay", after: parsed.offset };
}

/**
 * Where `earliest` starts: the oldest offset a resume may read back (the
 * broker's retention may have dropped some before it: the read starts at
 * the first one it holds).
 */
export function earliestStart(tail: Tail, maxReplay: number): ResumeStart {
  if (tail.epoch === "" || tail.offset < 0) return { kind: "live" };
  return { kind: "replay", after: Math.max(-1, tail.offset - maxReplay) };
}
