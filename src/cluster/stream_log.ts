/**
 * The event log of a cluster: a RabbitMQ stream shared by every instance.
 * An append publishes a record (with confirms) and resolves once this
 * instance's tail consumer delivers it; events reach `deliver` only through
 * the tail, in stream order, so every instance delivers the same events in
 * the same order with the same ids (`<epoch>-<offset>`, see event_id.ts).
 * Resumes are answered from the local cache of the newest events, else by
 * shared, bounded reads of the stream (stream_reads.ts).
 *
 * @module
 */

import { errorMessage } from "../core/errors.ts";
import type {
  AMQPChannel,
  AMQPClient,
  AMQPConsumer,
} from "@cloudamqp/amqp-client";
import type {
  Appended,
  EventLog,
  EventRecord,
  ResumeStart,
} from "../core/event_log.ts";
import type { Fields, Logger } from "../core/log.ts";
import { createEventCache } from "./cache.ts";
import { createDedupeWindow } from "./dedupe_window.ts";
import { parseId } from "./event_id.ts";
import { createPendingAppends } from "./pending_appends.ts";
import { encodeEventRecord, encodeHelloRecord } from "./record.ts";
import { consumeStream } from "./stream_consumer.ts";
import { createLink } from "./stream_link.ts";
import { createStreamReads } from "./stream_reads.ts";
import {
  declareStream,
  discoverEpoch,
  type StreamSpec,
} from "./stream_setup.ts";
import { createTail, type Tail } from "./stream_tail.ts";
import { LogUnavailableError } from "./unavailable.ts";
import { waitFor } from "./wait.ts";

/** Everything a stream log needs, resolved from the config. */
export interface StreamLogOptions {
  readonly stream: StreamSpec;
  readonly url: string;
  readonly connectionName: string;
  readonly heartbeatSeconds: number;
  readonly reconnectDelayMs: number;
  /** Local cache bounds (history.size, history.max_bytes). */
  readonly cacheSize: number;
  readonly cacheBytes: number;
  readonly log: Logger;
  readonly where: Fields;
}

/** Counters of the stream log, beside the hub's. */
export type StreamLogStats = {
  readonly attached: boolean;
  readonly epoch: string;
  readonly tail_offset: number;
  readonly stream_reads: number;
  readonly pending_appends: number;
};

/** The stream log: an EventLog plus its broker life. */
export interface StreamLog extends EventLog {
  append(record: EventRecord): Promise<Appended>;
  /** Connects and attaches; rejects only when the stream cannot be used. */
  start(): Promise<void>;
  clusterStats(): StreamLogStats;
}

const TAIL_PREFETCH = 1_000;
const APPEND_TIMEOUT_MS = 15_000;
/** How long a resume waits for the tail to reach an id from another instance. */
const CATCH_UP_MS = 3_000;
const HELLO_TIMEOUT_MS = 15_000;
/** A new tail starts this far back, to fill the dedupe window and the cache. */
const DEDUPE_WINDOW_MS = 30_000;
const DEDUPE_KEYS = 100_000;

/** Creates the log; call `start` before serving. */
export function createStreamLog(options: StreamLogOptions): StreamLog {
  const { log, where } = options;
  const stream = options.stream.name;
  const nonce = crypto.randomUUID().slice(0, 8);
  const cache = createEventCache(options.cacheSize, options.cacheBytes);
  const pending = createPendingAppends(APPEND_TIMEOUT_MS);
  const dedupe = createDedupeWindow(DEDUPE_WINDOW_MS, DEDUPE_KEYS);
  const tail = createTail(cache, pending, dedupe);
  let publisher: AMQPChannel | undefined;
  let reader: AMQPChannel | undefined;
  let sequence = 0;
  const reads = createStreamReads(stream, cache, tail, () => reader);
  const clusterStats = (): StreamLogStats => ({
    attached: publisher !== undefined,
    epoch: tail.epoch,
    tail_offset: tail.offset,
    stream_reads: reads.opened,
    pending_appends: pending.size,
  });

  const attach = async (
    client: AMQPClient,
    publishing: AMQPClient,
    lost: (reason: string) => void,
  ) => {
    await declareStream(client, options.stream);
    const epoch = await discoverEpoch(client, stream);
    if (tail.epoch !== "" && epoch !== tail.epoch) {
      log.warn("cluster stream was recreated; older ids now give a gap", {
        ...where,
        epoch,
      });
      tail.reset();
    }
    tail.epoch = epoch;
    const channel = await publishing.channel();
    await channel.confirmSelect();
    reader = await client.channel();
    const following = await follow(
      tail,
      client,
      channel,
      stream,
      `${nonce}.${sequence++}`,
    );
    // The broker cancels the tail when the stream is deleted: attach again,
    // which declares it anew and learns the new stream's epoch.
    following.wait().then(
      () => lost("tail consumer ended"),
      (error: Error) => lost(`tail consumer ended: ${errorMessage(error)}`),
    );
    publisher = channel;
  };

  const link = createLink({
    url: options.url,
    connectionName: options.connectionName,
    heartbeatSeconds: options.heartbeatSeconds,
    reconnectDelayMs: options.reconnectDelayMs,
    log,
    where,
    attach,
    detached(reason) {
      publisher = reader = undefined;
      pending.detached(reason);
    },
  });

  return {
    shared: true,
    connect(deliver) {
      tail.deliver = deliver;
    },
    start: () => link.start(),
    async append(record) {
      const key = record.key;
      const known = key === undefined
        ? undefined
        : dedupe.lookup(key, Date.now());
      if (known !== undefined) return { id: known, delivered: 0 };
      const channel = publisher;
      if (channel === undefined) {
        throw new LogUnavailableError("the cluster stream is not reachable");
      }
      const messageId = `${nonce}.${sequence++}`;
      const done = pending.add(messageId);
      const body = encodeEventRecord(tail.epoch, record);
      channel.basicPublish("", stream, body, { messageId }).then(
        () => pending.confirmed(messageId),
        (error: Error) => pending.failed(messageId, errorMessage(error)),
      );
      return await done;
    },
    resume: (lastEventId) => resumeStart(tail, lastEventId),
    read: (after, subscription, budget) =>
      reads.read(after, subscription, budget),
    get lastPosition() {
      return tail.lastPosition;
    },
    get lastId() {
      return tail.lastId;
    },
    stats: () => ({
      events: cache.length,
      bytes: cache.bytes,
      cluster: clusterStats(),
    }),
    // Retention is the broker's (x-max-age, x-max-length-bytes).
    expire() {},
    async close() {
      pending.clear("shutting down");
      await link.stop();
    },
    clusterStats,
  };
}

/** Follows the tail from where it stopped, or, new, from a hello marker. */
async function follow(
  tail: Tail,
  client: AMQPClient,
  publisher: AMQPChannel,
  stream: string,
  marker: string,
): Promise<AMQPConsumer> {
  const consumer = await client.channel();
  if (tail.offset >= 0) {
    // Right after the last record seen: nothing twice, nothing skipped.
    const from = tail.offset + 1;
    return consumeStream(consumer, stream, from, TAIL_PREFETCH, tail.onMessage);
  }
  const seen = tail.expectHello(marker);
  const since = new Date(Date.now() - DEDUPE_WINDOW_MS);
  const following = await consumeStream(
    consumer,
    stream,
    since,
    TAIL_PREFETCH,
    tail.onMessage,
  );
  const hello = encodeHelloRecord(tail.epoch, marker);
  await publisher.basicPublish("", stream, hello);
  await waitFor(seen, HELLO_TIMEOUT_MS, "own hello record on the tail");
  return following;
}

/** Where a client that last saw `lastEventId` resumes. */
async function resumeStart(
  tail: Tail,
  lastEventId: string,
): Promise<ResumeStart> {
  const parsed = parseId(lastEventId);
  if (parsed === undefined) return { kind: "gap", reason: "malformed" };
  if (tail.epoch === "" || parsed.epoch !== tail.epoch) {
    return { kind: "gap", reason: "unknown" };
  }
  // The id may come from an instance whose tail is a little ahead.
  if (!(await tail.reaches(parsed.offset, CATCH_UP_MS))) {
    return { kind: "gap", reason: "unknown" };
  }
  if (parsed.offset >= tail.lastPosition) return { kind: "live" };
  return { kind: "replay", after: parsed.offset };
}
