/**
 * How connections end: dropped at once (client gone, too slow) or retired
 * politely (a retry hint first) at expiry, lifetime and shutdown. Every
 * path is idempotent: a disconnect may be reported by abort, cancel and a
 * failed enqueue alike.
 *
 * @module
 */

import {
  type CloseReason,
  type Connection,
  type ConnectionWatcher,
  roomLeft,
} from "./connection.ts";
import type { Registry } from "./registry.ts";
import { encodeRetry } from "./sse.ts";
import { clearLongTimeout } from "../long_timer.ts";

/** Ends connections of one hub and counts why. */
export interface Closing {
  readonly closed: Readonly<Record<CloseReason, number>>;
  /** Ends a stream now; a slow one is errored, so its queue is discarded. */
  cut(c: Connection, reason: CloseReason): void;
  /** Forgets a connection whose stream the runtime cancelled (client gone). */
  cancelled(c: Connection): void;
  /** Ends a stream with a retry hint first; `write` queues the hint. */
  retire(
    c: Connection,
    reason: CloseReason,
    retryMs: number,
    write: (c: Connection, chunk: Uint8Array) => void,
  ): void;
}

/** `onClosed` hears of every closed connection (e.g. to log slow ones). */
export function createClosing(
  registry: Registry,
  onClosed: ((reason: CloseReason) => void) | undefined,
  watcher?: ConnectionWatcher,
): Closing {
  const closed = {
    client: 0,
    slow: 0,
    lifetime: 0,
    expired: 0,
    shutdown: 0,
    unavailable: 0,
  };

  /** `end`: close the stream ("close"), error it ("error"), or it is over. */
  const drop = (
    c: Connection,
    reason: CloseReason,
    end: "close" | "error" | "over",
  ) => {
    if (!c.open) return;
    c.open = false;
    registry.remove(c);
    clearLongTimeout(c.closeTimer);
    clearLongTimeout(c.stallTimer);
    closed[reason]++;
    onClosed?.(reason);
    watcher?.closed(c, reason);
    try {
      // A slow client's queue will never drain: error() discards it at once.
      if (end === "error") c.controller.error(new Error(`closed: ${reason}`));
      else if (end === "close") c.controller.close();
    } catch { /* already closed by the runtime */ }
    c.onClose?.(reason);
  };

  return {
    closed,
    cut: (c, reason) => drop(c, reason, reason === "slow" ? "error" : "close"),
    // Closing a cancelled stream throws, and a thrown error costs Deno ~9 µs
    // per disconnect (bench/connect_cost.ts).
    cancelled: (c) => drop(c, "client", "over"),
    retire(c, reason, retryMs, write) {
      if (!c.open) return;
      write(c, encodeRetry(retryMs));
      // close() waits for the queue to drain; a client that is not reading
      // would hold the connection (and shutdown) open, so cut it instead.
      const room = roomLeft(c);
      drop(c, reason, room !== null && room <= 0 ? "error" : "close");
    },
  };
}
