/**
 * The messages between the owning thread and its delivery threads. Events
 * go out in batches: one message and one transferred buffer per thread per
 * batch, whatever the number of subscribers.
 *
 * @module
 */

import type { Audience } from "../core/history/audience.ts";
import type { CloseReason, HubStats } from "../core/hub/hub.ts";
import type { ReplayChunk, ResumeStart } from "../core/history/event_log.ts";

/** Where an SSE connector's log stands when a thread starts serving it. */
export interface LogState {
  readonly lastPosition: number;
  readonly lastId: string;
  readonly shared: boolean;
  readonly available: boolean;
}

/** One event of a batch; its frame is `bytes[start, end)` of the batch. */
export interface BatchedEvent {
  readonly c: string;
  readonly position: number;
  readonly id: string;
  readonly audience: Audience;
  readonly start: number;
  readonly end: number;
}

/** A question a delivery thread asks the owning thread. */
export type Ask =
  | { readonly op: "resume"; readonly c: string; readonly lastEventId: string }
  | { readonly op: "earliest"; readonly c: string }
  | {
    readonly op: "read";
    readonly c: string;
    readonly after: number;
    readonly rooms: readonly string[];
    readonly userId: string | undefined;
    readonly budget: number;
  }
  /** A per-address slot; the answer is a slot number, or "ip_full". */
  | { readonly op: "address"; readonly c: string; readonly address: string };

/** What an Ask is answered with. */
export type Answer = ResumeStart | ReplayChunk | number | "ip_full";

/** Owning thread to delivery thread. */
export type ToThread =
  | {
    readonly t: "init";
    readonly configPath: string;
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly thread: number;
    readonly threads: number;
    /** Per SSE connector: [slots held, connections of thread 0, 1, ...]. */
    readonly counters: Readonly<Record<string, SharedArrayBuffer>>;
    /** Connectors whose opened/closed connections presence counts. */
    readonly watched: readonly string[];
  }
  | {
    readonly t: "serve";
    readonly c: string;
    readonly port: number;
    readonly log: LogState;
  }
  | {
    readonly t: "events";
    readonly events: readonly BatchedEvent[];
    readonly bytes: Uint8Array;
  }
  | {
    readonly t: "interrupted";
    readonly c: string;
    readonly reason: "expired" | "unknown" | "malformed" | "restart";
    readonly resumeFrom: string;
  }
  | { readonly t: "available"; readonly c: string; readonly available: boolean }
  | {
    readonly t: "answer";
    readonly id: number;
    readonly value?: Answer;
    readonly error?: string;
  }
  | { readonly t: "close"; readonly spreadMs: number };

/** A connection as presence sees it, across the thread boundary. */
export interface WatchedConnection {
  readonly id: number;
  readonly rooms: readonly string[];
  readonly userId: string | undefined;
}

/** Delivery thread to owning thread. */
export type FromThread =
  | { readonly t: "ready" }
  | { readonly t: "failed"; readonly error: string }
  | { readonly t: "served"; readonly c: string; readonly port: number }
  | { readonly t: "ask"; readonly id: number; readonly ask: Ask }
  | { readonly t: "release"; readonly c: string; readonly slot: number }
  | { readonly t: "stats"; readonly c: string; readonly stats: HubStats }
  | {
    readonly t: "opened";
    readonly c: string;
    readonly conn: WatchedConnection;
  }
  | {
    readonly t: "closed";
    readonly c: string;
    readonly conn: WatchedConnection;
    readonly reason: CloseReason;
  }
  | {
    readonly t: "accept";
    readonly c: string;
    readonly kind: "failed" | "recovered" | "ended";
    readonly error?: string;
  }
  | { readonly t: "closed-all" };

/** The web Worker surface both runtimes offer, as the pool uses it. */
export interface ThreadPort {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(
    type: "message",
    listener: (event: MessageEvent) => void,
  ): void;
  addEventListener(type: "error", listener: (event: ErrorEvent) => void): void;
  terminate?(): void;
}
