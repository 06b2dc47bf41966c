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

import type { AMQPTlsOptions } from "@cloudamqp/amqp-client";
import { errorMessage } from "../core/errors.ts";
import type {
  Appended,
  EventLog,
  EventRecord,
} from "../core/history/event_log.ts";
import type { Fields, Logger } from "../core/log.ts";
import { createEventCache } from "./cache.ts";
import { createDedupeWindow } from "./dedupe_window.ts";
import { createPendingAppends } from "./pending_appends.ts";
import { encodeEventRecord } from "./record.ts";
import { createAttachment } from "./stream_attach.ts";
import { earliestStart, resumeStart } from "./stream_follow.ts";
import { createIdIndex } from "../core/history/id_index.ts";
import { formatId } from "./event_id.ts";
import { createStreamReads } from "./stream_reads.ts";
import type { StreamSpec } from "./stream_setup.ts";
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
  const cache = createEventCache(options.cacheSize, options.cacheBytes);
  const pending = createPendingAppends(APPEND_TIMEOUT_MS);
  const dedupe = createDedupeWindow(DEDUPE_OFFSETS);
  const tail = createTail(
    cache,
    pending,
    dedupe,
    createIdIndex(Math.max(options.cacheSize, 1)),
  );
  const link = createAttachment({
    stream: options.stream,
    url: options.url,
    tlsOptions: options.tlsOptions,
    connectionName: options.connectionName,
    heartbeatSeconds: options.heartbeatSeconds,
    reconnectDelayMs: options.reconnectDelayMs,
    log,
    where,
    tail,
    pending,
  });
  const reads = createStreamReads(stream, cache, tail, () => link.consuming);
  const clusterStats = (): StreamLogStats => ({
    attached: link.publisher !== undefined,
    epoch: tail.epoch,
    tail_offset: tail.offset,
    stream_reads: reads.opened,
    pending_appends: pending.size,
    blocked: link.blocked,
  });

  return {
    shared: true,
    connect(deliver, lost) {
      tail.deliver = deliver;
      if (lost !== undefined) link.interrupted = lost;
    },
    get available() {
      return link.publisher !== undefined;
    },
    start: () => link.start(),
    async append(record) {
      const key = record.key;
      const known = key === undefined ? undefined : dedupe.lookup(key);
      if (known !== undefined) return { id: known, delivered: 0 };
      const channel = link.publisher;
      if (channel === undefined) {
        throw new LogUnavailableError("the cluster stream is not reachable");
      }
      const messageId = link.nextMarker();
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
