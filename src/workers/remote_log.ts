/**
 * A delivery thread's event log: the owning thread's log seen from across
 * the thread boundary. Events arrive in log order (batches); resume and
 * read are asked of the owning thread. A read that reaches past what this
 * thread has been handed waits for those events, so a resuming client goes
 * live exactly where its replay ended: nothing doubled, nothing missed.
 *
 * @module
 */

import type {
  Deliver,
  EventLog,
  Interrupted,
  LoggedEvent,
  ReplayChunk,
  ResumeStart,
} from "../core/history/event_log.ts";
import type { Answer, Ask, LogState } from "./protocol.ts";

/** The remote log, and what the thread feeds into it. */
export interface RemoteLog extends EventLog {
  /** An event the owning thread's log handed over. */
  handed(event: LoggedEvent): void;
  interrupt: Interrupted;
  setAvailable(available: boolean): void;
}

/** A log over `ask`, starting where the owning thread's stands. */
export function createRemoteLog(
  connector: string,
  state: LogState,
  ask: (question: Ask) => Promise<Answer>,
): RemoteLog {
  let lastPosition = state.lastPosition;
  let lastId = state.lastId;
  let available = state.available;
  let deliver: Deliver = () => 0;
  let interrupted: Interrupted = () => {};
  /** Reads waiting for this thread to be handed up to a position. */
  const waiting: { position: number; resolve: () => void }[] = [];

  return {
    shared: state.shared,
    get available() {
      return available;
    },
    get lastPosition() {
      return lastPosition;
    },
    get lastId() {
      return lastId;
    },
    connect(fanOut, onInterrupted) {
      deliver = fanOut;
      if (onInterrupted) interrupted = onInterrupted;
    },
    handed(event) {
      lastPosition = event.position;
      lastId = event.id;
      deliver(event);
      while (waiting.length > 0 && waiting[0].position <= lastPosition) {
        waiting.shift()!.resolve();
      }
    },
    interrupt: (reason, resumeFrom) => interrupted(reason, resumeFrom),
    setAvailable(value) {
      available = value;
    },
    append() {
      throw new Error("delivery threads do not append: the owning thread does");
    },
    async resume(lastEventId) {
      return await ask({
        op: "resume",
        c: connector,
        lastEventId,
      }) as ResumeStart;
    },
    async earliest() {
      return await ask({ op: "earliest", c: connector }) as ResumeStart;
    },
    async read(after, subscription, budget) {
      const chunk = await ask({
        op: "read",
        c: connector,
        after,
        rooms: [...subscription.rooms],
        userId: subscription.userId,
        budget,
      }) as ReplayChunk;
      if (chunk.kind === "events" && chunk.last > lastPosition) {
        await new Promise<void>((resolve) => {
          waiting.push({ position: chunk.last, resolve });
          waiting.sort((a, b) => a.position - b.position);
        });
      }
      return chunk;
    },
    // History is the owning thread's: it counts it.
    stats: () => ({ events: 0, bytes: 0 }),
    expire() {},
    close() {},
  };
}
