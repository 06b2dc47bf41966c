/**
 * The event log: the seam between routing and fan-out. Every event an SSE
 * connector sends is appended here first; the log gives it its id and hands
 * it to the hub's fan-out in log order. Resume (Last-Event-ID) is answered
 * from the log.
 *
 * Two implementations: the in-memory log of one process
 * (`memory_log.ts`), and a RabbitMQ stream shared by every instance of a
 * cluster. The hub (registry, writer, replay) only knows this interface.
 *
 * @module
 */

import type { Audience, Subscription } from "./audience.ts";

/** What a flow asks to send. */
export interface EventRecord {
  readonly audience: Audience;
  /** SSE event type. */
  readonly event: string;
  /** Compact JSON of the body. */
  readonly data: string;
  /**
   * Identity of the input message this event comes from (source, message
   * id, flow). A shared log appends a key it already holds only once.
   */
  readonly key?: string;
  /** The `id:` clients see, when the publisher chose it (Mercure). */
  readonly id?: string;
  /** The `retry:` field sent with the event (Mercure), ms. */
  readonly retry?: number;
}

/** An event as the log holds it. */
export interface LoggedEvent {
  /**
   * Place in the log, strictly increasing in log order. Only compared with
   * positions of the same log; never shown to clients.
   */
  readonly position: number;
  /** The `id:` field clients see and send back as Last-Event-ID. */
  readonly id: string;
  readonly audience: Audience;
  /** The encoded SSE frame (with its id), shared by every recipient. */
  readonly frame: Uint8Array;
}

/** What became of an append. */
export interface Appended {
  readonly id: string;
  /** Connections of this process the event was queued to. */
  readonly delivered: number;
}

/** Why a resume cannot be proven complete. */
export type GapReason = "expired" | "unknown" | "malformed" | "restart";

/** Where a resuming client starts. */
export type ResumeStart =
  /** Nothing was missed: go live at once. */
  | { readonly kind: "live" }
  /** Replay every event after this position, then go live. */
  | { readonly kind: "replay"; readonly after: number }
  /** The log cannot tell what was missed. */
  | { readonly kind: "gap"; readonly reason: GapReason };

/** One bounded step of a replay. */
export type ReplayChunk =
  | {
    readonly kind: "events";
    /** Frames of the events the subscription receives, in order. */
    readonly frames: readonly Uint8Array[];
    /** Position of the last event looked at (sent or not). */
    readonly last: number;
  }
  /** Retention dropped events after the position while the client read. */
  | { readonly kind: "gap"; readonly reason: "expired" };

/** Fan-out: queues an event to this process's connections; returns how many. */
export type Deliver = (event: LoggedEvent) => number;

/**
 * The log lost events it cannot name (a shared log's stream was deleted):
 * every connection gets a gap, and resumes from `resumeFrom`.
 */
export type Interrupted = (reason: GapReason, resumeFrom: string) => void;

/** An event log; see the module comment. */
export interface EventLog {
  /** True when other processes append to this log too (a cluster). */
  readonly shared?: boolean;
  /**
   * Registers the fan-out. The log calls it exactly once per event, in log
   * order (for events of any instance when the log is shared).
   * `interrupted` hears of losses no replay can fill.
   */
  connect(deliver: Deliver, interrupted?: Interrupted): void;
  /**
   * False while a shared log cannot answer resumes (not attached to its
   * broker); absent means always.
   */
  readonly available?: boolean;
  /**
   * Appends an event. It reaches `deliver` once the log holds it (the
   * in-memory log does that before returning); resolves with its id.
   */
  append(record: EventRecord): Appended | Promise<Appended>;
  /**
   * Where a client that last saw `lastEventId` resumes: the log's own ids,
   * and the ids publishers chose for the events it still holds.
   */
  resume(lastEventId: string): ResumeStart | Promise<ResumeStart>;
  /** Where a client that wants every event the log holds starts. */
  earliest(): ResumeStart | Promise<ResumeStart>;
  /**
   * Events after `after` that `subscription` receives, up to about
   * `budgetBytes` of frames (at least one frame when any is left).
   */
  read(
    after: number,
    subscription: Subscription,
    budgetBytes: number,
  ): ReplayChunk | Promise<ReplayChunk>;
  /**
   * The log's newest position: every event up to it was handed to
   * `deliver`. -Infinity before any event, in a log that has no other
   * records; a shared log's is always a stream offset.
   */
  readonly lastPosition: number;
  /** Id of the newest event handed to `deliver`; "" before any. */
  readonly lastId: string;
  /** Events and bytes held in memory. */
  stats(): {
    readonly events: number;
    readonly bytes: number;
    /** A shared log's own counters (shown on /stats). */
    readonly cluster?: Readonly<Record<string, unknown>>;
  };
  /** Drops what retention no longer keeps (called on the heartbeat). */
  expire(): void;
  close(): void | Promise<void>;
}
