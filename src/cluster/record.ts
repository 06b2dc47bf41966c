/**
 * The records of a cluster's stream, one AMQP message each. The body is
 * compact JSON with a version field, so a later format can be told apart:
 *
 *     {"v":1,"k":"event","ep":"<epoch>","to":"room","names":["a"],
 *      "event":"message","data":"<compact JSON of the body>","key":"..."}
 *
 * - `k: "event"`: an event (`to` is "all", "room", "user" or "topics";
 *   `names` only for rooms, users and topics; `key` only when the input
 *   carried a dedupe key). A Mercure update (`to: "topics"`) adds
 *   `private` when it is, and its `id` and `retry` when chosen; a reader
 *   that predates them skips `to: "topics"` records.
 * - `k: "epoch"`: a proposal of the stream's epoch. It counts only at
 *   offset 0, i.e. as the first record of a new stream; see epoch.ts.
 * - `k: "hello"`: written by an instance when it attaches, so it knows where
 *   the tail was; never delivered.
 *
 * Every record carries the epoch its writer had adopted (`ep`). A record
 * this version cannot read is skipped by readers, never delivered.
 *
 * @module
 */

import type { Audience } from "../core/history/audience.ts";
import type { EventRecord } from "../core/history/event_log.ts";

/** The record format version written by this code. */
export const RECORD_VERSION = 1;

/** A record as read back from the stream. */
export type StreamRecord =
  | {
    readonly kind: "event";
    readonly epoch: string;
    readonly record: EventRecord;
    /** Dedupe key of the input message, if it had one. */
    readonly key?: string;
  }
  | { readonly kind: "epoch"; readonly epoch: string }
  | { readonly kind: "hello"; readonly epoch: string; readonly nonce: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes an event record written under `epoch`. */
export function encodeEventRecord(
  epoch: string,
  record: EventRecord,
): Uint8Array {
  const { audience } = record;
  return encoder.encode(JSON.stringify({
    v: RECORD_VERSION,
    k: "event",
    ep: epoch,
    to: audience.kind,
    names: audience.kind === "all" ? undefined : audience.names,
    private: audience.kind === "topics" && audience.private ? true : undefined,
    event: record.event,
    data: record.data,
    key: record.key,
    id: record.id,
    retry: record.retry,
  }));
}

/** Encodes a proposal for the epoch of a new stream. */
export function encodeEpochRecord(epoch: string): Uint8Array {
  return encoder.encode(
    JSON.stringify({ v: RECORD_VERSION, k: "epoch", ep: epoch }),
  );
}

/** Encodes the marker an instance writes when it attaches to the tail. */
export function encodeHelloRecord(epoch: string, nonce: string): Uint8Array {
  return encoder.encode(
    JSON.stringify({ v: RECORD_VERSION, k: "hello", ep: epoch, nonce }),
  );
}

/** Decodes a record; undefined for anything this version cannot read. */
export function decodeRecord(
  body: Uint8Array | null,
): StreamRecord | undefined {
  if (body === null) return undefined;
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object") return undefined;
  if (value.v !== RECORD_VERSION || typeof value.ep !== "string") {
    return undefined;
  }
  const epoch = value.ep;
  switch (value.k) {
    case "epoch":
      return { kind: "epoch", epoch };
    case "hello":
      return typeof value.nonce === "string"
        ? { kind: "hello", epoch, nonce: value.nonce }
        : undefined;
    case "event": {
      const audience = decodeAudience(value.to, value.names, value.private);
      if (
        audience === undefined || typeof value.event !== "string" ||
        typeof value.data !== "string"
      ) return undefined;
      const key = typeof value.key === "string" ? value.key : undefined;
      const id = typeof value.id === "string" ? value.id : undefined;
      const retry = typeof value.retry === "number" ? value.retry : undefined;
      return {
        kind: "event",
        epoch,
        record: { audience, event: value.event, data: value.data, id, retry },
        key,
      };
    }
  }
  return undefined;
}

function decodeAudience(
  to: unknown,
  names: unknown,
  isPrivate: unknown,
): Audience | undefined {
  if (to === "all") return { kind: "all" };
  if (to !== "room" && to !== "user" && to !== "topics") return undefined;
  if (
    !Array.isArray(names) || names.length === 0 ||
    !names.every((n) => typeof n === "string")
  ) return undefined;
  if (to === "topics") return { kind: to, names, private: isPrivate === true };
  return { kind: to, names };
}
