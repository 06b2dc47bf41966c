/**
 * The tail of a cluster's stream as one instance follows it: every record
 * in stream order, once (a re-attach may repeat the last ones; they are
 * skipped). Events go to the local cache and to `deliver`; this instance's
 * own appends are answered with their id; a keyed event already in the
 * dedupe window is not delivered again. Records before the instance's own
 * hello marker are history: cached, never delivered.
 *
 * @module
 */

import type { AMQPMessage } from "@cloudamqp/amqp-client";
import type {
  Deliver,
  EventRecord,
  LoggedEvent,
} from "../core/history/event_log.ts";
import { encodeEvent } from "../core/hub/sse.ts";
import type { EventCache } from "./cache.ts";
import type { DedupeWindow } from "./dedupe_window.ts";
import type { IdIndex } from "../core/history/id_index.ts";
import { formatId } from "./event_id.ts";
import type { PendingAppends } from "./pending_appends.ts";
import { decodeRecord } from "./record.ts";

/** One instance's position on the stream. */
export interface Tail {
  /** The epoch events must carry to be delivered (set on attach). */
  epoch: string;
  /** The hub's fan-out. */
  deliver: Deliver;
  onMessage(offset: number, message: AMQPMessage): void;
  /** Resolves when the hello marker `nonce` comes by; delivery starts then. */
  expectHello(nonce: string): Promise<void>;
  /** Resolves true once the tail has seen `offset`, false after `ms`. */
  reaches(offset: number, ms: number): Promise<boolean>;
  /** The event of a record at `offset`, as the log hands it out. */
  toEvent(offset: number, record: EventRecord): LoggedEvent;
  /** Duplicate decisions, shared with appends and replays. */
  readonly dedupe: DedupeWindow;
  /** Offsets of the events whose publisher chose their id (Mercure). */
  readonly chosenIds: IdIndex;
  /** Forgets the position (the stream was recreated). */
  reset(): void;
  /** True after a reset: the new stream is followed from its start. */
  readonly recreated: boolean;
  /** Newest record of any kind seen; -1 before any. */
  readonly offset: number;
  readonly lastId: string;
}

/** Creates a tail feeding `cache`, answering `pending`. */
export function createTail(
  cache: EventCache,
  pending: PendingAppends,
  dedupe: DedupeWindow,
  chosenIds: IdIndex,
): Tail {
  let offset = -1;
  let recreated = false;
  let lastId = "";
  let hello: { nonce: string; seen: () => void } | undefined;
  const moved = new Set<() => void>();

  const tail: Tail = {
    epoch: "",
    dedupe,
    chosenIds,
    deliver: () => 0,
    onMessage(at, message) {
      if (!(at > offset)) return;
      offset = at;
      const record = decodeRecord(message.body);
      if (record?.kind === "hello" && record.nonce === hello?.nonce) {
        hello.seen();
        hello = undefined;
      }
      if (record?.kind === "event" && record.epoch === tail.epoch) {
        const event = tail.toEvent(at, record.record);
        const key = record.key;
        const first = key === undefined || dedupe.remember(key, event.id, at);
        // Before exactFrom this instance cannot tell every duplicate: such
        // events stay out of the cache (replays read them from the stream).
        const exact = at >= dedupe.exactFrom;
        let delivered = 0;
        if (first) {
          if (exact) cache.add(event);
          if (record.record.id !== undefined) chosenIds.set(event.id, at);
          lastId = event.id;
          if (hello === undefined) delivered = tail.deliver(event);
        } else if (exact) cache.seen(at);
        const id = first ? event.id : dedupe.lookup(key!)!;
        pending.seen(message.properties.messageId ?? "", { id, delivered });
      } else if (at >= dedupe.exactFrom) cache.seen(at);
      for (const check of moved) check();
    },
    expectHello(nonce) {
      return new Promise<void>((resolve) => hello = { nonce, seen: resolve });
    },
    reaches(target, ms) {
      if (offset >= target) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (ok: boolean) => {
          clearTimeout(timer);
          moved.delete(check);
          resolve(ok);
        };
        const check = () => offset >= target && done(true);
        const timer = setTimeout(() => done(false), ms);
        moved.add(check);
      });
    },
    toEvent(at, record) {
      const id = record.id ?? formatId(tail.epoch, at);
      const { event, data, retry } = record;
      const frame = encodeEvent({ id, event, data, retry });
      return { position: at, id, audience: record.audience, frame };
    },
    reset() {
      offset = -1;
      // A fresh attach cut short must not gate the recreated stream.
      hello = undefined;
      recreated = true;
      cache.reset();
      dedupe.clear();
      chosenIds.clear();
    },
    get recreated() {
      return recreated;
    },
    get offset() {
      return offset;
    },
    get lastId() {
      return lastId;
    },
  };
  return tail;
}
