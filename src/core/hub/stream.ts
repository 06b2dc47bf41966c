/**
 * A subscriber's stream: the ReadableStream the runtime sends, bounded by
 * max_buffered (bytes), opened with a `retry:` hint, resumed from the event
 * log when the client sent a Last-Event-ID, and closed at its deadline.
 *
 * @module
 */

import type { Closing } from "./closing.ts";
import type {
  CloseReason,
  Connection,
  ConnectionWatcher,
} from "./connection.ts";
import type { EventLog, ResumeStart } from "../history/event_log.ts";
import type { PreparedResume } from "../history/prepared_resume.ts";
import type { Subscription } from "../history/audience.ts";
import type { Registry } from "./registry.ts";
import { type ReplayContext, replayStep } from "./replay.ts";
import { setLongTimeout } from "../long_timer.ts";

/** What a new connection asks for. */
export interface SubscribeRequest extends Subscription {
  /** Raw Last-Event-ID as received, if any. */
  readonly lastEventId?: string;
  /** The log's answer to lastEventId, when the caller asked it first. */
  readonly resumed?: PreparedResume;
  /** Close the stream (with a retry hint) at this time, ms since epoch. */
  readonly closeAt?: number;
  /** Why `closeAt` ends the stream. */
  readonly closeReason?: CloseReason;
  /** Called once when the connection is gone, whatever the cause. */
  readonly onClose?: (reason: CloseReason) => void;
}

/** An open connection: its body, and a way to end it from outside. */
export interface Subscriber {
  readonly stream: ReadableStream<Uint8Array>;
  /** Idempotent; call it when the runtime reports the client gone. */
  disconnect(): void;
}

/** What opening a stream needs from its hub. */
export interface StreamContext {
  readonly log: EventLog;
  readonly registry: Registry;
  readonly closing: Closing;
  readonly replay: ReplayContext;
  /** The `retry:` frame every stream starts with. */
  readonly opening: Uint8Array;
  readonly retryMs: number;
  readonly maxBufferedBytes: number;
  readonly now: () => number;
  /** The next connection id. */
  readonly nextId: () => number;
  readonly watcher?: ConnectionWatcher;
}

/** Opens a stream for `request` and registers its connection. */
export function openStream(
  ctx: StreamContext,
  request: SubscribeRequest,
): Subscriber {
  const { log, closing, replay } = ctx;
  const c: Connection = {
    id: ctx.nextId(),
    rooms: request.rooms,
    userId: request.userId,
    topics: request.topics,
    controller: undefined as unknown as Connection["controller"],
    pending: [],
    open: true,
    replayedTo: undefined,
    lastQueued: -Infinity,
    active: true,
    stallTimer: undefined,
    closeTimer: undefined,
    onClose: request.onClose,
    maxBuffered: ctx.maxBufferedBytes,
  };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      c.controller = controller;
      ctx.registry.add(c);
      // Sent at once, so the client sees the connection open.
      controller.enqueue(ctx.opening);
      // After the opening frame: a join event it causes comes second.
      ctx.watcher?.opened(c);
      if (request.closeAt !== undefined) {
        const reason = request.closeReason ?? "lifetime";
        // Chained: a token `exp` a year away overflows one setTimeout.
        c.closeTimer = setLongTimeout(
          () => closing.retire(c, reason, ctx.retryMs, replay.writer.write),
          Math.max(0, request.closeAt - ctx.now()),
        );
      }
      const lastEventId = request.lastEventId;
      if (lastEventId === undefined) return;
      const resumed = request.resumed;
      if (resumed !== undefined) {
        // Asked before the stream opened: what came since replays.
        begin(replay, c, resumed.start, lastEventId);
        if (resumed.start.kind !== "replay") c.replayedTo = resumed.from;
        if (c.replayedTo! >= log.lastPosition) c.replayedTo = undefined;
        return firstStep(replay, c);
      }
      const start = log.resume(lastEventId);
      if (!(start instanceof Promise)) {
        begin(replay, c, start, lastEventId);
        return firstStep(replay, c);
      }
      // Until the log answers, live events wait in the log for replay.
      const from = c.replayedTo = log.lastPosition;
      return start.then((s) => {
        begin(replay, c, s, lastEventId);
        // A gap names the newest id as where the stream goes on: live from
        // there, as with a log that answers at once (events that came in
        // meanwhile would arrive after an id newer than theirs).
        if (s.kind === "gap") c.replayedTo = undefined;
        else if (s.kind === "live") c.replayedTo = from;
        return firstStep(replay, c);
      });
    },
    // Only a resuming connection ever replays: a live one needs no pull,
    // which spares the runtime a call per read.
    pull: request.lastEventId === undefined
      ? undefined
      : () => replayStep(replay, c),
    cancel() {
      closing.cancelled(c);
    },
  }, BYTES);
  return { stream, disconnect: () => closing.cut(c, "client") };
}

/**
 * Every stream's queuing strategy, shared (not a closure per stream):
 * chunks count their bytes; 0, not max_buffered: see roomLeft in
 * connection.ts.
 */
const BYTES: QueuingStrategy<Uint8Array> = {
  highWaterMark: 0,
  size: (chunk) => chunk?.byteLength ?? 0,
};

/** Where a resuming connection starts. */
function begin(
  replay: ReplayContext,
  c: Connection,
  start: ResumeStart,
  lastEventId: string,
): void {
  if (start.kind === "replay") c.replayedTo = start.after;
  else if (start.kind === "gap") {
    c.controller.enqueue(replay.gap(start.reason, lastEventId));
  }
}

/**
 * The first chunk of a replay, queued at once, before the client reads
 * (with a high-water mark of 0 no pull would come until it does).
 */
function firstStep(replay: ReplayContext, c: Connection) {
  return c.replayedTo === undefined ? undefined : replayStep(replay, c);
}
