/**
 * Server-Sent Events wire encoding, exact to the WHATWG spec: every field
 * ends in LF, an event ends in a blank line, and `data` that contains CR, LF
 * or CRLF is split into several `data:` lines (a lone CR is a line break to
 * the client too, so it must never reach the wire inside a field).
 *
 * @module
 */

import { isFieldValue } from "./field.ts";

const encoder = new TextEncoder();

/** One event as it goes on the wire. */
export interface SseEvent {
  /** Event id: ASCII digits. Sent as `id:`. */
  readonly id?: string;
  /** Event type, `message` when absent. Sent as `event:`. */
  readonly event?: string;
  /** Payload; split on CR, LF and CRLF into several `data:` lines. */
  readonly data: string;
  /** Reconnection time in ms. Sent as `retry:`. */
  readonly retry?: number;
}

const LINE_BREAK = /\r\n|\r|\n/;

/**
 * Throws a TypeError when `value` cannot be a single-line SSE field.
 * An `id` with NUL is ignored by clients and CR/LF would end the field early.
 */
export function assertFieldValue(name: string, value: string): void {
  if (!isFieldValue(value)) {
    throw new TypeError(
      `Cannot serialize event: \`${name}\` cannot contain CR, LF or NUL`,
    );
  }
}

/** Returns the event as text, ending in the blank line that dispatches it. */
export function formatEvent(event: SseEvent): string {
  let out = "";
  if (event.id !== undefined) {
    assertFieldValue("id", event.id);
    out += `id: ${event.id}\n`;
  }
  if (event.event !== undefined) {
    assertFieldValue("event", event.event);
    out += `event: ${event.event}\n`;
  }
  if (event.retry !== undefined) {
    if (!Number.isSafeInteger(event.retry) || event.retry < 0) {
      throw new RangeError(
        `Cannot serialize event: \`retry\` must be ms >= 0, got ${event.retry}`,
      );
    }
    out += `retry: ${event.retry}\n`;
  }
  const data = event.data;
  // JSON from the flows never holds a raw line break: skip the split.
  if (data.indexOf("\n") < 0 && data.indexOf("\r") < 0) {
    return `${out}data: ${data}\n\n`;
  }
  for (const line of data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return out + "\n";
}

/** Encodes the event once; every recipient may share the returned bytes. */
export function encodeEvent(event: SseEvent): Uint8Array {
  return encoder.encode(formatEvent(event));
}

/** A `retry:` field telling the client how long to wait before reconnecting. */
export function encodeRetry(ms: number): Uint8Array {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new RangeError(`Cannot serialize retry: expected ms >= 0, got ${ms}`);
  }
  return encoder.encode(`retry: ${ms}\n\n`);
}

/** A comment line; clients ignore it, proxies see traffic. */
export function encodeComment(text: string): Uint8Array {
  assertFieldValue("comment", text);
  return encoder.encode(`: ${text}\n\n`);
}

/** The heartbeat frame, encoded once for the whole process. */
export const HEARTBEAT: Uint8Array = encodeComment("keepalive");
