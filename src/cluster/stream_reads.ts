/**
 * Replay reads of a cluster's log: from the local cache when it covers the
 * asked offset, else from the stream through the shared window reader. A
 * read from before what the stream still holds is a `gap` `expired`.
 *
 * @module
 */

import type { AMQPClient } from "@cloudamqp/amqp-client";
import {
  audienceIncludes,
  type Subscription,
} from "../core/history/audience.ts";
import type { LoggedEvent, ReplayChunk } from "../core/history/event_log.ts";
import type { EventCache } from "./cache.ts";
import { decodeRecord } from "./record.ts";
import { consumeStream } from "./stream_consumer.ts";
import type { Tail } from "./stream_tail.ts";
import { LogUnavailableError } from "./unavailable.ts";
import { createWindowReader } from "./window_reader.ts";

const READ_PREFETCH = 500;
/** Offsets per shared read; a resume reads at most this many per step. */
const WINDOW_OFFSETS = 1_000;
const WINDOWS_KEPT = 16;
const READ_TIMEOUT_MS = 15_000;
/** Stream consumers reading for resumes at once, per instance. */
const CONCURRENT_READS = 4;

/** Reads for replays. */
export interface StreamReads {
  read(
    after: number,
    subscription: Subscription,
    budgetBytes: number,
  ): ReplayChunk | Promise<ReplayChunk>;
  /** Stream consumers opened for reads so far. */
  readonly opened: number;
}

/** Creates the reads; `client()` is the consuming connection while attached. */
export function createStreamReads(
  stream: string,
  cache: EventCache,
  tail: Tail,
  client: () => AMQPClient | undefined,
): StreamReads {
  const windows = createWindowReader({
    windowSize: WINDOW_OFFSETS,
    keep: WINDOWS_KEPT,
    timeoutMs: READ_TIMEOUT_MS,
    concurrent: CONCURRENT_READS,
    async open(from, onMessage) {
      const connection = client();
      if (connection === undefined || connection.closed) {
        throw new LogUnavailableError("the cluster stream is not reachable");
      }
      // A channel of its own: whatever the broker says to one read closes
      // that read only, never the tail's connection.
      const channel = await connection.channel();
      let finished = false;
      try {
        await consumeStream(
          channel,
          stream,
          from,
          READ_PREFETCH,
          (offset, message) => {
            if (!finished && onMessage(offset, message.body)) finished = true;
          },
        );
      } catch (error) {
        channel.close().catch(() => {});
        throw error;
      }
      return () => void channel.close().catch(() => {});
    },
    toEvent(offset, body, keys) {
      const record = decodeRecord(body);
      if (record?.kind !== "event" || record.epoch !== tail.epoch) {
        return undefined;
      }
      // The tail's decisions where they are exact; before, the same rule
      // within what one read sees.
      if (record.key !== undefined && offset >= tail.dedupe.exactFrom) {
        if (tail.dedupe.isDuplicate(offset)) return undefined;
      } else if (record.key !== undefined) {
        if (keys.has(record.key)) return undefined;
        keys.add(record.key);
      }
      return tail.toEvent(offset, record.record);
    },
  });

  const fromCache = (after: number, sub: Subscription, budget: number) => {
    let i = cache.indexAfter(after);
    const next = () => cache.at(i++);
    return pick(next, after, Math.max(after, tail.offset), sub, budget);
  };

  const fromStream = async (
    after: number,
    sub: Subscription,
    budget: number,
  ): Promise<ReplayChunk> => {
    const window = await windows.window(after + 1, cache.coveredAfter);
    if (after + 1 < window.first) return { kind: "gap", reason: "expired" };
    let i = window.events.findIndex((e) => e.position > after);
    if (i < 0) i = window.events.length;
    const next = () => window.events[i++];
    return pick(next, after, window.end, sub, budget);
  };

  return {
    read(after, subscription, budget) {
      return after >= cache.coveredAfter
        ? fromCache(after, subscription, budget)
        : fromStream(after, subscription, budget);
    },
    get opened() {
      return windows.opened;
    },
  };
}

/** The frames of `next()`'s events the subscription receives, up to `budget`. */
function pick(
  next: () => LoggedEvent | undefined,
  after: number,
  end: number,
  subscription: Subscription,
  budget: number,
): ReplayChunk {
  const frames: Uint8Array[] = [];
  let bytes = 0;
  let last = after;
  for (let event = next(); event !== undefined; event = next()) {
    last = event.position;
    if (!audienceIncludes(event.audience, subscription)) continue;
    frames.push(event.frame);
    bytes += event.frame.byteLength;
    if (bytes >= budget) return { kind: "events", frames, last };
  }
  return { kind: "events", frames, last: Math.max(last, end) };
}
