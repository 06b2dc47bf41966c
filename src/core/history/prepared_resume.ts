/**
 * A resume asked of the log before the stream opens, so the response can
 * carry Mercure's `Last-Event-ID` header: the id of the event before the
 * first one replayed, or `earliest`.
 *
 * @module
 */

import type { EventLog, ResumeStart } from "./event_log.ts";

/** Where a resume starts, asked before the stream opens (Mercure's header). */
export interface PreparedResume {
  readonly start: ResumeStart;
  /** The log's newest position when it answered: live events after it replay. */
  readonly from: number;
  /** The id of the event before the first one replayed, or "earliest". */
  readonly before: string;
}

/** The reserved Last-Event-ID asking for everything the log holds. */
export const EARLIEST = "earliest";

/** Asks `log` where `lastEventId` resumes. */
export function prepareResume(
  log: EventLog,
  lastEventId: string,
): PreparedResume | Promise<PreparedResume> {
  const earliest = lastEventId === EARLIEST;
  const start = earliest ? log.earliest() : log.resume(lastEventId);
  const settle = (s: ResumeStart): PreparedResume => ({
    start: s,
    from: log.lastPosition,
    // As the reference hub answers: an id it does not hold replays nothing,
    // so the event before the first one sent is the newest.
    before: earliest
      ? EARLIEST
      : s.kind === "gap"
      ? log.lastId || EARLIEST
      : lastEventId,
  });
  return start instanceof Promise ? start.then(settle) : settle(start);
}
