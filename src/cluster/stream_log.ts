/**
 * The event log of a cluster: a RabbitMQ stream shared by every instance.
 * An append publishes a record (with confirms) and resolves once this
 * instance's tail consumer delivers it; events reach `deliver` only through
 * the tail, in stream order, so every instance delivers the same events in
 * the same order with the same ids (`<epoch>-<offset>`, see event_id.ts).
 * Resumes are answered from the local cache of the newest events, else by
 * shared, bounded reads of the stream (window_reader.ts).
 *
 * @module
 */

import type {
  AMQPChannel,
  AMQPClient,
  AMQPMessage,
} from "@cloudamqp/amqp-client";
import { audienceIncludes, type Subscription } from "../core/audience.ts";
import type {
  Appended,
  Deliver,
  EventLog,
  EventRecord,
  LoggedEvent,
  ReplayChunk,
  ResumeStart,
} from "../core/event_log.ts";
import type { Fields, Logger } from "../core/log.ts";
import { encodeEvent } from "../core/sse.ts";
import { createEventCache } from "./cache.ts";
import { createDedupeWindow } from "./dedupe_window.ts";
import { formatId, parseId } from "./event_id.ts";
import { createPendingAppends } from "./pending_appends.ts";
import {
  decodeRecord,
  encodeEventRecord,
  encodeHelloRecord,
} from "./record.ts";
import { createLink } from "./stream_link.ts";
import {
  declareStream,
  discoverEpoch,
  type StreamSpec,
} from "./stream_setup.ts";
import { waitFor } from "./wait.ts";
import { LogUnavailableError } from "./unavailable.ts";
import { createWindowReader, type OnStreamMessage } from "./window_reader.ts";

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

/** An input message's identity, so a redelivered one is appended once. */
export interface KeyedRecord extends EventRecord {
  readonly dedupeKey?: string;
}

/** Counters of the stream log, beside the hub's. */
export interface StreamLogStats {
  readonly attached: boolean;
  readonly epoch: string;
  readonly tail_offset: number;
  readonly stream_reads: number;
  readonly pending_appends: number;
}

/** The stream log: an EventLog plus its broker life. */
export interface StreamLog extends EventLog {
  append(record: KeyedRecord): Promise<Appended>;
  /** Connects and attaches; rejects only when the stream cannot be used. */
  start(): Promise<void>;
  clusterStats(): StreamLogStats;
}

const TAIL_PREFETCH = 1_000;
const READ_PREFETCH = 500;
const WINDOW_OFFSETS = 1_000;
const WINDOWS_KEPT = 16;
const READ_TIMEOUT_MS = 15_000;
const APPEND_TIMEOUT_MS = 15_000;
/** How long a resume waits for the tail to reach an id from another instance. */
const CATCH_UP_MS = 3_000;
const HELLO_TIMEOUT_MS = 15_000;
/** The tail starts this far back, to fill the dedupe window and the cache. */
const DEDUPE_WINDOW_MS = 30_000;
const DEDUPE_KEYS = 100_000;

/** Creates the log; call `start` before serving. */
export function createStreamLog(options: StreamLogOptions): StreamLog {
  const { log, where } = options;
  const streamName = options.stream.name;
  const nonce = crypto.randomUUID().slice(0, 8);
  const cache = createEventCache(options.cacheSize, options.cacheBytes);
  const pending = createPendingAppends(APPEND_TIMEOUT_MS);
  const dedupe = createDedupeWindow(DEDUPE_WINDOW_MS, DEDUPE_KEYS);
  let deliver: Deliver = () => 0;
  let epoch = "";
  let publisher: AMQPChannel | undefined;
  let reader: AMQPChannel | undefined;
  let attached = false;
  /** Offset of the newest record of any kind the tail has seen. */
  let tailOffset = -1;
  /** Set while attaching: the tail delivers nothing before our hello. */
  let hello: { nonce: string; seen: () => void } | undefined;
  let lastPosition = -Infinity;
  let lastId = "";
  let sequence = 0;
  const tailMoved = new Set<() => void>();

  const toEvent = (offset: number, record: EventRecord): LoggedEvent => {
    const id = formatId(epoch, offset);
    const frame = encodeEvent({ id, event: record.event, data: record.data });
    return { position: offset, id, audience: record.audience, frame };
  };

  const onTail = (message: AMQPMessage) => {
    message.ack().catch(() => {});
    const offset = Number(message.properties.headers?.["x-stream-offset"]);
    if (!(offset > tailOffset)) return; // already seen before a re-attach
    tailOffset = offset;
    const record = decodeRecord(message.body);
    if (record?.kind === "hello" && record.nonce === hello?.nonce) {
      hello.seen();
      hello = undefined;
    }
    if (record?.kind !== "event" || record.epoch !== epoch) {
      cache.seen(offset);
    } else {
      const event = toEvent(offset, record.record);
      const messageId = message.properties.messageId ?? "";
      const first = record.key === undefined ||
        dedupe.remember(record.key, event.id, Date.now());
      if (first) {
        cache.add(event);
        lastPosition = offset;
        lastId = event.id;
      } else cache.seen(offset);
      // Before our hello the records are history: cached, not delivered.
      const delivered = first && hello === undefined ? deliver(event) : 0;
      pending.seen(messageId, { id: event.id, delivered });
    }
    for (const moved of tailMoved) moved();
  };

  const openConsumer = async (
    channel: AMQPChannel,
    from: number | string | Date,
    prefetch: number,
    onMessage: (message: AMQPMessage) => void,
  ) => {
    await channel.basicQos(prefetch);
    return await channel.basicConsume(streamName, {
      noAck: false,
      args: { "x-stream-offset": from },
    }, onMessage);
  };

  const attach = async (client: AMQPClient) => {
    await declareStream(client, options.stream);
    const found = await discoverEpoch(client, streamName);
    if (epoch !== "" && found !== epoch) {
      log.warn("cluster stream was recreated; older ids now give a gap", {
        ...where,
        epoch: found,
      });
      cache.reset();
      tailOffset = -1;
    }
    epoch = found;
    const channel = await client.channel();
    await channel.confirmSelect();
    reader = await client.channel();
    const tail = await client.channel();
    if (tailOffset >= 0) {
      // Right after the last record delivered: nothing twice, nothing skipped.
      await openConsumer(tail, tailOffset + 1, TAIL_PREFETCH, onTail);
    } else {
      const marker = { nonce: `${nonce}.${sequence++}`, seen: () => {} };
      const seen = new Promise<void>((resolve) => marker.seen = resolve);
      hello = marker;
      try {
        const since = new Date(Date.now() - DEDUPE_WINDOW_MS);
        await openConsumer(tail, since, TAIL_PREFETCH, onTail);
        await channel.basicPublish(
          "",
          streamName,
          encodeHelloRecord(epoch, marker.nonce),
        );
        await waitFor(seen, HELLO_TIMEOUT_MS, "own hello record on the tail");
      } finally {
        hello = undefined;
      }
    }
    publisher = channel;
    attached = true;
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
      attached = false;
      publisher = reader = undefined;
      pending.detached(reason);
    },
  });

  const windows = createWindowReader({
    windowSize: WINDOW_OFFSETS,
    keep: WINDOWS_KEPT,
    timeoutMs: READ_TIMEOUT_MS,
    async open(from, onMessage: OnStreamMessage) {
      const channel = reader;
      if (channel === undefined) throw new LogUnavailableError("not attached");
      const consumer = await openConsumer(channel, from, READ_PREFETCH, (m) => {
        m.ack().catch(() => {});
        const offset = Number(m.properties.headers?.["x-stream-offset"]);
        if (onMessage(offset, m.body)) consumer?.cancel().catch(() => {});
      });
      return () => void consumer.cancel().catch(() => {});
    },
    toEvent(offset, body) {
      const record = decodeRecord(body);
      if (record?.kind !== "event" || record.epoch !== epoch) return undefined;
      return toEvent(offset, record.record);
    },
  });

  /** Waits until the tail has seen `offset`; false when it does not in time. */
  const tailReaches = (offset: number, ms: number): Promise<boolean> => {
    if (tailOffset >= offset) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        tailMoved.delete(check);
        resolve(ok);
      };
      const check = () => tailOffset >= offset && done(true);
      const timer = setTimeout(() => done(false), ms);
      tailMoved.add(check);
    });
  };

  return {
    connect(fanOut) {
      deliver = fanOut;
    },
    start: () => link.start(),
    async append(record) {
      const key = record.dedupeKey;
      if (key !== undefined) {
        const id = dedupe.lookup(key, Date.now());
        if (id !== undefined) return { id, delivered: 0 };
      }
      const channel = publisher;
      if (!attached || channel === undefined) {
        throw new LogUnavailableError("the cluster stream is not reachable");
      }
      const messageId = `${nonce}.${sequence++}`;
      const done = pending.add(messageId);
      channel.basicPublish(
        "",
        streamName,
        encodeEventRecord(epoch, record, key),
        {
          messageId,
        },
      ).then(
        () => pending.confirmed(messageId),
        (error: Error) => pending.failed(messageId, error.message),
      );
      return await done;
    },
    async resume(lastEventId) {
      const parsed = parseId(lastEventId);
      if (parsed === undefined) return { kind: "gap", reason: "malformed" };
      if (epoch === "" || parsed.epoch !== epoch) {
        return { kind: "gap", reason: "unknown" };
      }
      // The id may come from an instance whose tail is a little ahead.
      if (!(await tailReaches(parsed.offset, CATCH_UP_MS))) {
        return { kind: "gap", reason: "unknown" };
      }
      if (parsed.offset >= lastPosition) return { kind: "live" };
      return { kind: "replay", after: parsed.offset };
    },
    read(after, subscription, budgetBytes) {
      if (after >= cache.coveredAfter) {
        return readCache(after, subscription, budgetBytes);
      }
      return readStream(after, subscription, budgetBytes);
    },
    get lastPosition() {
      return lastPosition;
    },
    get lastId() {
      return lastId;
    },
    stats: () => ({ events: cache.length, bytes: cache.bytes }),
    expire() {},
    async close() {
      pending.clear("shutting down");
      await link.stop();
    },
    clusterStats: () => ({
      attached,
      epoch,
      tail_offset: tailOffset,
      stream_reads: windows.opened,
      pending_appends: pending.size,
    }),
  };

  function readCache(
    after: number,
    subscription: Subscription,
    budget: number,
  ): ReplayChunk {
    const events: LoggedEvent[] = [];
    for (let i = cache.indexAfter(after), e; (e = cache.at(i)); i++) {
      events.push(e);
    }
    return pick(
      events,
      after,
      Math.max(after, lastPosition),
      subscription,
      budget,
    );
  }

  async function readStream(
    after: number,
    subscription: Subscription,
    budget: number,
  ): Promise<ReplayChunk> {
    const window = await windows.window(after + 1, cache.coveredAfter);
    if (after + 1 < window.first) return { kind: "gap", reason: "expired" };
    const events = window.events.filter((e) => e.position > after);
    return pick(events, after, window.end, subscription, budget);
  }
}

/** The frames of `events` the subscription receives, up to `budget` bytes. */
function pick(
  events: readonly LoggedEvent[],
  after: number,
  end: number,
  subscription: Subscription,
  budget: number,
): ReplayChunk {
  const frames: Uint8Array[] = [];
  let bytes = 0;
  let last = after;
  for (const event of events) {
    last = event.position;
    if (!audienceIncludes(event.audience, subscription)) continue;
    frames.push(event.frame);
    bytes += event.frame.byteLength;
    if (bytes >= budget) return { kind: "events", frames, last };
  }
  return { kind: "events", frames, last: Math.max(last, end) };
}
