/**
 * The hub of one SSE connector: opens subscriber streams, appends published
 * events to the event log and fans out what the log hands back.
 *
 * The roles live in their own files: `registry.ts` (who is connected, by
 * room and user), `writer.ts` (coalescing, backpressure), `replay.ts`
 * (catching a resuming client up), and the event log behind
 * `event_log.ts` (ids, history, resume). Hot path rules: an event is encoded
 * once and every recipient gets the same bytes; room and user deliveries
 * touch only their index; nothing is logged or allocated per delivery
 * beyond the queue slot.
 *
 * @module
 */

import type { Audience } from "../history/audience.ts";
import { createClosing } from "./closing.ts";
import type { CloseReason, ConnectionWatcher } from "./connection.ts";
import type {
  Appended,
  EventLog,
  EventRecord,
  GapReason,
} from "../history/event_log.ts";
import { createRegistry } from "./registry.ts";
import { encodeGap, type ReplayContext } from "./replay.ts";
import { encodeRetry } from "./sse.ts";
import {
  type PreparedResume,
  prepareResume,
} from "../history/prepared_resume.ts";
import {
  openStream,
  type StreamContext,
  type Subscriber,
  type SubscribeRequest,
} from "./stream.ts";
import { createFanOut, startHeartbeat } from "./fan_out.ts";
import { createWriter } from "./writer.ts";
import { clearLongTimeout } from "../long_timer.ts";

export type { CloseReason, ConnectionWatcher } from "./connection.ts";
export type { Subscriber, SubscribeRequest } from "./stream.ts";
export type { PreparedResume } from "../history/prepared_resume.ts";

/** Hub settings, already validated and converted to ms and bytes. */
export interface HubOptions {
  readonly log: EventLog;
  /** 0 turns keepalives off. */
  readonly heartbeatMs: number;
  readonly retryMs: number;
  readonly maxBufferedBytes: number;
  readonly gapEvent: string;
  /** A resuming client whose queue stays full this long is cut as slow. */
  readonly stallMs?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
  /** Told of every closed connection, e.g. to log slow ones (rate-limited). */
  readonly onClosed?: (reason: CloseReason) => void;
  /** Told of every opened and closed connection (presence). */
  readonly watcher?: ConnectionWatcher;
  /** Presence totals for stats, when the connector keeps presence. */
  readonly presence?: () => Readonly<Record<string, number>>;
}

/** Counters a user can read on /stats or in logs. */
export interface HubStats {
  connections: number;
  rooms: number;
  users: number;
  events: number;
  deliveries: number;
  closed: Record<CloseReason, number>;
  gaps: number;
  /** Gap events by reason (restart, unknown, malformed, expired). */
  gapReasons: Record<string, number>;
  historyEvents: number;
  historyBytes: number;
  /** The cluster's stream log, when the log is shared. */
  cluster?: Readonly<Record<string, unknown>>;
  /** Presence totals (rooms, users, ...), when presence is on. */
  presence?: Readonly<Record<string, number>>;
  /** Open connections per delivery thread, when there are several. */
  threads?: readonly number[];
}

/** The hub's public face. */
export interface Hub {
  /** Opens a stream for a subscriber. */
  subscribe(request: SubscribeRequest): Subscriber;
  /** Asks the log where `lastEventId` resumes ("earliest": its oldest). */
  prepareResume(
    lastEventId: string,
  ): PreparedResume | Promise<PreparedResume>;
  /** Appends an event to the log; it is delivered once the log holds it. */
  publish(
    audience: Audience,
    event: string,
    data: string,
    key?: string,
    /** A Mercure update's own id and retry. */
    extra?: Pick<EventRecord, "id" | "retry">,
  ): Appended | Promise<Appended>;
  /** True when the log is a cluster's: ids are the same on every instance. */
  readonly shared: boolean;
  /** False while the log cannot answer a Last-Event-ID (a detached cluster). */
  readonly resumable: boolean;
  /** Connections currently open. */
  readonly size: number;
  stats(): HubStats;
  /** Sends each client a retry hint in [0, spreadMs), then closes every stream. */
  close(spreadMs: number): void;
}

const DEFAULT_STALL_MS = 10_000;

/** Creates a hub over an event log; call `close` to stop its timers. */
export function createHub(options: HubOptions): Hub {
  const { log } = options;
  const registry = createRegistry();
  const closing = createClosing(
    registry,
    options.onClosed,
    options.watcher,
  );
  const writer = createWriter(closing.cut);
  let opened = 0;
  const counts = { events: 0, deliveries: 0, gaps: 0 };
  const gapReasons: Record<string, number> = {};
  const countGap = (reason: GapReason) => {
    counts.gaps++;
    gapReasons[reason] = (gapReasons[reason] ?? 0) + 1;
  };
  const replay: ReplayContext = {
    log,
    writer,
    gap: (reason, lastEventId) => {
      countGap(reason);
      return encodeGap(options.gapEvent, reason, lastEventId, log.lastId);
    },
    stallMs: options.stallMs ?? DEFAULT_STALL_MS,
    cut: closing.cut,
    unreadable: (c) =>
      closing.retire(c, "unavailable", options.retryMs, writer.write),
  };
  const streams: StreamContext = {
    log,
    registry,
    closing,
    replay,
    opening: encodeRetry(options.retryMs),
    retryMs: options.retryMs,
    maxBufferedBytes: options.maxBufferedBytes,
    now: options.now ?? Date.now,
    nextId: () => ++opened,
    watcher: options.watcher,
  };

  log.connect(
    createFanOut(registry, writer, counts),
    (reason, resumeFrom) => {
      const frame = encodeGap(options.gapEvent, reason, log.lastId, resumeFrom);
      // Positions of the lost log mean nothing any more: replays stop too.
      for (const c of registry.all) {
        c.replayedTo = undefined;
        countGap(reason);
        writer.write(c, frame, false);
      }
    },
  );
  const heartbeat = startHeartbeat(registry, writer, log, options.heartbeatMs);

  return {
    subscribe: (request) => openStream(streams, request),

    prepareResume: (lastEventId) => prepareResume(log, lastEventId),

    publish: (audience, event, data, key, extra) =>
      log.append({ audience, event, data, key, ...extra }),

    shared: log.shared === true,

    get resumable() {
      return log.available !== false;
    },

    get size() {
      return registry.all.size;
    },

    stats() {
      const held = log.stats();
      return {
        connections: registry.all.size,
        rooms: registry.rooms,
        users: registry.users,
        ...counts,
        closed: { ...closing.closed },
        gapReasons: { ...gapReasons },
        historyEvents: held.events,
        historyBytes: held.bytes,
        cluster: held.cluster,
        presence: options.presence?.(),
      };
    },

    close(spreadMs) {
      clearLongTimeout(heartbeat);
      writer.flush();
      for (const c of [...registry.all]) {
        const retryMs = Math.floor(Math.random() * spreadMs);
        closing.retire(c, "shutdown", retryMs, writer.write);
      }
    },
  };
}
