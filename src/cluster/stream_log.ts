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
  AMQPTlsOptions,
} from "@cloudamqp/amqp-client";
import type {
  Appended,
  EventLog,
  EventRecord,
  Interrupted,
} from "../core/event_log.ts";
import type { Fields, Logger } from "../core/log.ts";
import { createEventCache } from "./cache.ts";
import { createDedupeWindow } from "./dedupe_window.ts";
import { formatId } from "./event_id.ts";
import { createPendingAppends } from "./pending_appends.ts";
import { encodeEventRecord } from "./record.ts";
import { earliestStart, follow, resumeStart } from "./stream_follow.ts";
import { createIdIndex } from "../core/id_index.ts";
import { createLink } from "./stream_link.ts";
import { createStreamReads } from "./stream_reads.ts";
import {
  declareStream,
  discoverEpoch,
  type StreamSpec,
} from "./stream_setup.ts";
import { createTail } from "./stream_tail.ts";
import { LogUnavailableError } from "./unavailable.ts";

/** Everything a stream log needs, resolved from the config. */
export interface StreamLogOptions {
  readonly stream: StreamSpec;
  readonly url: string;
  /** The mq connector's TLS material (its `[tls]` table). */
  readonly tlsOptions?: AMQPTlsOptions;
  readonly connectionName: string;
  readonly heartbeatSeconds: number;
  readonly reconnectDelayMs: number;
  /** Local cache bounds (history.size, history.max_bytes). */
  readonly cacheSize: number;
  readonly cacheBytes: number;
  /** Offsets a resume may read back; MAX_REPLAY_OFFSETS unless set. */
  readonly maxReplayOffsets?: number;
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
  /** The broker's reason while it blocks publishing (a resource alarm). */
  readonly blocked?: string;
};

/** The stream log: an EventLog plus its broker life. */
export interface StreamLog extends EventLog {
  append(record: EventRecord): Promise<Appended>;
  /** Connects and attaches; rejects only when the stream cannot be used. */
  start(): Promise<void>;
  clusterStats(): StreamLogStats;
}

const APPEND_TIMEOUT_MS = 15_000;
/**
 * Offsets of the stream a duplicate input is recognised across: at 1,000
 * events a second, 100 s of appends while one instance reconnects after an
 * outage (nothing is appended while the broker is down).
 */
const DEDUPE_OFFSETS = 100_000;
/**
 * A resume reads at most this many offsets of the stream; an older id gets
 * `gap expired`. The epoch and offset are in every id, so without a bound
 * one forged header could have an instance read the whole stream.
 */
export const MAX_REPLAY_OFFSETS = 100_000;

/** Creates the log; call `start` before serving. */
export function createStreamLog(options: StreamLogOptions): StreamLog {
  const { log, where } = options;
  const stream = options.stream.name;
  const nonce = crypto.randomUUID().slice(0, 8);
  const cache = createEventCache(options.cacheSize, options.cacheBytes);
  const pending = createPendingAppends(APPEND_TIMEOUT_MS);
  const dedupe = createDedupeWindow(DEDUPE_OFFSETS);
  const tail = createTail(
    cache,
    pending,
    dedupe,
    createIdIndex(Math.max(options.cacheSize, 1)),
  );
  let publisher: AMQPChannel | undefined;
  let consuming: AMQPClient | undefined;
  let blocked: string | undefined;
  let sequence = 0;
  let interrupted: Interrupted = () => {};
  const reads = createStreamReads(stream, cache, tail, () => consuming);
  const clusterStats = (): StreamLogStats => ({
    attached: publisher !== undefined,
    epoch: tail.epoch,
    tail_offset: tail.offset,
    stream_reads: reads.opened,
    pending_appends: pending.size,
    blocked,
  });

  const attach = async (
    client: AMQPClient,
    publishing: AMQPClient,
    lost: (reason: string) => void,
  ) => {
    await declareStream(client, options.stream);
    const epoch = await discoverEpoch(client, stream);
    const recreated = tail.epoch !== "" && epoch !== tail.epoch;
    if (recreated) {
      log.warn("cluster stream was recreated; older ids now give a gap", {
        ...where,
        epoch,
      });
      tail.reset();
      // What the old stream held past this tail is gone with it: say so to
      // every client, which then resumes from the new stream's start.
      interrupted("unknown", formatId(epoch, 0));
    }
    tail.epoch = epoch;
    const channel = await publishing.channel();
    await channel.confirmSelect();
    consuming = client;
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
    watchBlocked(publishing);
    publisher = channel;
  };

  // A resource alarm: the broker stops reading this connection, so appends
  // in flight would wait out APPEND_TIMEOUT_MS; they fail now instead (503,
  // as new ones do), and readiness says why.
  const watchBlocked = (publishing: AMQPClient) => {
    publishing.onblocked = (reason) => {
      blocked = reason;
      log.warn("the broker blocks publishing; appends answer 503", {
        ...where,
        reason,
      });
      pending.detached(`the broker blocks publishing: ${reason}`);
    };
    publishing.onunblocked = () => {
      blocked = undefined;
      log.info("the broker takes appends again", where);
    };
  };

  const link = createLink({
    url: options.url,
    tlsOptions: options.tlsOptions,
    connectionName: options.connectionName,
    heartbeatSeconds: options.heartbeatSeconds,
    reconnectDelayMs: options.reconnectDelayMs,
    log,
    where,
    attach,
    detached(reason) {
      publisher = consuming = blocked = undefined;
      pending.detached(reason);
    },
  });

  return {
    shared: true,
    connect(deliver, lost) {
      tail.deliver = deliver;
      if (lost !== undefined) interrupted = lost;
    },
    get available() {
      return publisher !== undefined;
    },
    start: () => link.start(),
    async append(record) {
      const key = record.key;
      const known = key === undefined ? undefined : dedupe.lookup(key);
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
    resume: (lastEventId) => {
      // A publisher's id of an event this instance saw: resumed by offset.
      const chosen = tail.chosenIds.get(lastEventId);
      return resumeStart(
        tail,
        chosen === undefined ? lastEventId : formatId(tail.epoch, chosen),
        options.maxReplayOffsets ?? MAX_REPLAY_OFFSETS,
      );
    },
    earliest: () =>
      earliestStart(tail, options.maxReplayOffsets ?? MAX_REPLAY_OFFSETS),
    read: (after, subscription, budget) =>
      reads.read(after, subscription, budget),
    // Every record moves it (a replay past a hello marker finds nothing),
    // so it is an offset from the first record on: never -Infinity.
    get lastPosition() {
      return tail.offset;
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
