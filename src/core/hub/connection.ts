/**
 * One subscriber's connection as the hub holds it.
 *
 * @module
 */

import type { Subscription } from "../history/audience.ts";
import type { LongTimeout } from "../long_timer.ts";

/** Why a connection ended, as counted in the hub's stats. */
export type CloseReason =
  | "client"
  | "slow"
  | "lifetime"
  | "expired"
  | "shutdown"
  /** A replay could not be read (the cluster log went away): retry. */
  | "unavailable";

/** A subscriber's open stream and where it stands in the event log. */
export interface Connection extends Subscription {
  /** Unique within its hub, in order of opening (lifecycle events name it). */
  readonly id: number;
  controller: ReadableStreamDefaultController<Uint8Array>;
  /** Frames queued in this loop turn; the writer sends them together. */
  pending: Uint8Array[];
  open: boolean;
  /**
   * While the connection catches up after a resume: the log position it has
   * been sent up to. Undefined once it is live.
   */
  replayedTo: number | undefined;
  /** Log position of the newest event queued: one event, one copy. */
  lastQueued: number;
  /** Written to since the heartbeat last looked: it needs no keepalive. */
  active: boolean;
  /** Cuts a resuming client that stopped reading; see the hub. */
  stallTimer: LongTimeout | undefined;
  /** Ends the stream at the token's expiry or the max lifetime. */
  closeTimer: LongTimeout | undefined;
  readonly onClose: ((reason: CloseReason) => void) | undefined;
  /** max_buffered: bytes its queue may hold before it counts as slow. */
  readonly maxBuffered: number;
}

/**
 * Bytes the connection's queue may still take before max_buffered; negative
 * past it; null once the stream is closed. The stream's high-water mark is
 * 0 (Bun sizes per-connection buffers after it: 1 MiB cost ~7 KB each), so
 * `desiredSize` is minus the bytes queued.
 */
export function roomLeft(c: Connection): number | null {
  const desired = c.controller.desiredSize;
  return desired === null ? null : c.maxBuffered + desired;
}

/**
 * Told when a connection opens (after its opening frame) and closes, once
 * each: presence counts and lifecycle events, never the delivery path.
 */
export interface ConnectionWatcher {
  opened(c: Connection): void;
  closed(c: Connection, reason: CloseReason): void;
}
