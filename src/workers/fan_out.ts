/**
 * The owning thread's fan-out to its delivery threads: each event its log
 * hands over is queued once, and every batch (the events of one loop turn)
 * goes to each thread as one message with the frames in one buffer. The
 * subscribers are on the threads; here nothing is done per subscriber.
 *
 * @module
 */

import type { EventLog, LoggedEvent } from "../core/history/event_log.ts";
import type { BatchedEvent, ThreadPort, ToThread } from "./protocol.ts";

/** Events waiting for the end of the loop turn, for every thread. */
export interface EventBatches {
  add(connector: string, event: LoggedEvent): void;
  /** Sends what waits now: before an answer that may refer to it. */
  flush(): void;
  /** Sends `message` to every thread, after what waits. */
  broadcast(message: ToThread): void;
  /** Events and bytes sent per thread so far (for /stats). */
  readonly sent: { events: number; bytes: number };
}

/** Batches for `threads` (filled in as they start). */
export function createEventBatches(
  threads: readonly ThreadPort[],
): EventBatches {
  let events: BatchedEvent[] = [];
  let frames: Uint8Array[] = [];
  let bytes = 0;
  const sent = { events: 0, bytes: 0 };
  const flush = () => {
    if (events.length === 0) return;
    const all = new Uint8Array(bytes);
    let at = 0;
    for (const frame of frames) {
      all.set(frame, at);
      at += frame.byteLength;
    }
    const message: ToThread = { t: "events", events, bytes: all };
    // Each thread gets its own copy of the buffer (structured clone).
    for (const thread of threads) thread.postMessage(message);
    sent.events += events.length;
    sent.bytes += bytes;
    events = [];
    frames = [];
    bytes = 0;
  };
  return {
    add(c, { position, id, audience, frame }) {
      if (events.length === 0) queueMicrotask(flush);
      const start = bytes;
      bytes += frame.byteLength;
      events.push({ c, position, id, audience, start, end: bytes });
      frames.push(frame);
    },
    flush,
    broadcast(message) {
      flush();
      for (const thread of threads) thread.postMessage(message);
    },
    sent,
  };
}

/**
 * `log` with its fan-out teed to the delivery threads: the owning thread's
 * hub still hears every event (it counts them; it has no subscribers).
 */
export function threadedLog(
  connector: string,
  log: EventLog,
  batches: EventBatches,
): EventLog {
  return {
    get shared() {
      return log.shared;
    },
    get available() {
      return log.available;
    },
    get lastPosition() {
      return log.lastPosition;
    },
    get lastId() {
      return log.lastId;
    },
    earliest: () => log.earliest(),
    connect(deliver, interrupted) {
      log.connect((event) => {
        batches.add(connector, event);
        return deliver(event);
      }, (reason, resumeFrom) => {
        batches.broadcast({
          t: "interrupted",
          c: connector,
          reason,
          resumeFrom,
        });
        interrupted?.(reason, resumeFrom);
      });
    },
    append: (record) => log.append(record),
    resume: (lastEventId) => log.resume(lastEventId),
    read: (after, subscription, budget) =>
      log.read(after, subscription, budget),
    stats: () => log.stats(),
    expire: () => log.expire(),
    close: () => log.close(),
  };
}
