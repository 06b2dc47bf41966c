/**
 * Catching a resuming connection up: events it missed are read from the
 * event log in bounded chunks as the client reads (pulled, never pushed), so
 * a long resume fills only the room its queue has and never looks like a
 * slow client. Live events skip the connection until it has caught up; then
 * it goes live with nothing doubled and nothing missed.
 *
 * @module
 */

import { type Connection, roomLeft } from "./connection.ts";
import type { EventLog, GapReason, ReplayChunk } from "../history/event_log.ts";
import { encodeEvent } from "./sse.ts";
import type { Writer } from "./writer.ts";
import { clearLongTimeout, setLongTimeout } from "../long_timer.ts";

/** Upper bound of one replay chunk, so a resume cannot monopolise the loop. */
const REPLAY_CHUNK_BYTES = 256 * 1024;

/** What a replay step needs from its hub. */
export interface ReplayContext {
  readonly log: EventLog;
  readonly writer: Writer;
  /** Encodes (and counts) a gap event. */
  readonly gap: (reason: GapReason, lastEventId: string) => Uint8Array;
  /** A resuming client that reads nothing for this long is cut as slow. */
  readonly stallMs: number;
  readonly cut: (c: Connection, reason: "slow") => void;
  /**
   * A read failed (the shared log went away mid-replay): the connection is
   * closed with a retry hint and resumes from what it got, elsewhere or later.
   */
  readonly unreadable: (c: Connection) => void;
}

/** The gap event: why the resume is incomplete and where the stream goes on. */
export function encodeGap(
  eventName: string,
  reason: GapReason,
  lastEventId: string,
  resumeFrom: string,
): Uint8Array {
  return encodeEvent({
    id: resumeFrom,
    event: eventName,
    data: JSON.stringify({
      reason,
      // Echo a bounded prefix only: the header is attacker-sized.
      last_event_id: lastEventId.slice(0, 64),
      resume_from: resumeFrom,
    }),
  });
}

/**
 * Sends the next chunks of missed events until the queue is full or the
 * client has caught up; called at the start and from the stream's pull. The
 * promise (async logs) covers every chunk it sends, so the stream never runs
 * two steps of one connection at once.
 */
export function replayStep(
  ctx: ReplayContext,
  c: Connection,
): void | Promise<void> {
  clearLongTimeout(c.stallTimer);
  c.stallTimer = undefined;
  if (!c.open || c.replayedTo === undefined) return;
  const budget = Math.min(
    REPLAY_CHUNK_BYTES,
    roomLeft(c) ?? REPLAY_CHUNK_BYTES,
  );
  const chunk = ctx.log.read(c.replayedTo, c, budget);
  if (chunk instanceof Promise) {
    return chunk.then((it) => send(ctx, c, it), () => ctx.unreadable(c));
  }
  return send(ctx, c, chunk);
}

function send(
  ctx: ReplayContext,
  c: Connection,
  chunk: ReplayChunk,
): void | Promise<void> {
  if (!c.open || c.replayedTo === undefined) return;
  if (chunk.kind === "gap") {
    ctx.writer.write(c, ctx.gap(chunk.reason, String(c.replayedTo)), false);
    c.replayedTo = undefined;
    return;
  }
  c.replayedTo = chunk.last;
  if (chunk.last >= ctx.log.lastPosition) c.replayedTo = undefined;
  ctx.writer.writeFrames(c, chunk.frames, false);
  const room = roomLeft(c);
  if (!c.open || c.replayedTo === undefined || room === null) return;
  // Room left (a chunk is at most REPLAY_CHUNK_BYTES): fill it, as a pull
  // would with a high-water mark of max_buffered.
  if (room > 0) return replayStep(ctx, c);
  watchStall(ctx, c, room);
}

/**
 * The queue is full. The stream's high-water mark is 0, so the next pull
 * comes once the client has read all of it. One that read nothing for
 * stallMs would pin its queue: cut it. One that read some is watched again
 * (never stepped from here: a step beside a pull would send a chunk twice).
 */
function watchStall(ctx: ReplayContext, c: Connection, room: number): void {
  c.stallTimer = setLongTimeout(() => {
    c.stallTimer = undefined;
    const now = roomLeft(c);
    if (now === null || c.replayedTo === undefined) return;
    if (now > room) watchStall(ctx, c, now);
    else ctx.cut(c, "slow");
  }, ctx.stallMs);
}
