/**
 * What may stand in a single-line SSE field, and what makes a usable event
 * name. One rule each, used by the encoder, the flows and the config check.
 *
 * @module
 */

const LINE_BREAK_OR_NUL = /[\r\n\0]/;
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const encoder = new TextEncoder();

/** Longest event name, in UTF-8 bytes (room and user names have the same bound). */
export const MAX_EVENT_NAME_BYTES = 128;

/**
 * True when `value` can be one SSE field: CR or LF would end it early (a
 * lone CR too) and clients ignore an id containing NUL.
 */
export function isFieldValue(value: string): boolean {
  return !LINE_BREAK_OR_NUL.test(value);
}

/** Why `value` is not a usable event name, or undefined when it is one. */
export function eventNameProblem(value: string): string | undefined {
  if (value === "") return "is empty";
  if (CONTROL.test(value)) return "contains a control character";
  if (encoder.encode(value).byteLength > MAX_EVENT_NAME_BYTES) {
    return `is longer than ${MAX_EVENT_NAME_BYTES} bytes`;
  }
  return undefined;
}

/** True when `value` is a usable event name. */
export function isEventName(value: string): boolean {
  return eventNameProblem(value) === undefined;
}
