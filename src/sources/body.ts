/**
 * Reads a JSON object body with a byte limit, without ever buffering more
 * than the limit, and says precisely what is wrong when it is not one.
 *
 * @module
 */

import { type Timeouts } from "../core/http/timeouts.ts";
import { errorMessage } from "../core/errors.ts";
import { concatBytes } from "../core/bytes.ts";
import { checkJsonMessage, describeJson } from "../core/flows/json.ts";

/** A parsed object, or the status and reason to refuse it with. */
export type BodyResult =
  | { readonly ok: true; readonly value: Record<string, unknown> }
  | { readonly ok: false; readonly status: number; readonly reason: string };

// fatal: a body that is not UTF-8 is refused, not read with U+FFFD.
// Shared: decode() without { stream } keeps no state between calls.
const utf8 = new TextDecoder("utf-8", { fatal: true });

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** A parsed body as a message: 400 when not an object, 422 when too deep. */
export function checkObject(value: unknown): BodyResult {
  const checked = checkJsonMessage(value);
  if (!checked.ok && checked.code === "not_object") {
    return {
      ok: false,
      status: 400,
      reason: `body must be a JSON object, got ${describeJson(value)}`,
    };
  }
  if (!checked.ok) return { ok: false, status: 422, reason: checked.reason };
  return checked;
}

/**
 * Reads `request`'s body as any JSON value (an object, or a batch). A body
 * of declared length must come before its deadline in `deadlines` (one timer
 * for all requests: a setTimeout each costs Deno ~8 µs); a chunked one
 * within `timeoutMs`.
 */
export async function readJson(
  request: Request,
  /** A request header (src/core/http/http.ts headerOf: cheap on Deno). */
  header: (name: string) => string | null,
  maxBytes: number,
  timeoutMs: number,
  deadlines: Timeouts<() => void>,
): Promise<
  | { readonly ok: true; readonly value: unknown }
  | Extract<BodyResult, { ok: false }>
> {
  const type = header("content-type") ?? "";
  if (!JSON_TYPE.test(type)) {
    return {
      ok: false,
      status: 415,
      reason: `expected content-type application/json, got ${
        type === "" ? "none" : JSON.stringify(type)
      }`,
    };
  }
  const declared = Number(header("content-length") ?? "0");
  const tooLarge = {
    ok: false,
    status: 413,
    reason: `body is larger than max_body (${maxBytes} bytes)`,
  } as const;
  if (declared > maxBytes) return tooLarge;
  // A declared length bounds what the runtime reads (HTTP framing): read it
  // in one go, much cheaper than a reader loop; else count as it comes.
  const bytes = declared > 0
    ? await readDeclared(request, deadlines)
    : await readLimited(request.body, maxBytes, timeoutMs);
  if (bytes === "late") {
    return {
      ok: false,
      status: 408,
      reason: `body did not arrive within request_timeout (${timeoutMs} ms)`,
    };
  }
  if (bytes === undefined || bytes.byteLength > maxBytes) return tooLarge;
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch (error) {
    const detail = errorMessage(error);
    return {
      ok: false,
      status: 400,
      reason: `body is not valid JSON: ${detail}`,
    };
  }
  return { ok: true, value };
}

/** A body of declared length, or "late" when it has not come in time. */
async function readDeclared(
  request: Request,
  deadlines: Timeouts<() => void>,
): Promise<Uint8Array | "late"> {
  let expire!: () => void;
  const late = new Promise<"late">((resolve) => {
    expire = () => resolve("late");
  });
  deadlines.set(expire);
  try {
    const body = await Promise.race([request.arrayBuffer(), late]);
    return body === "late" ? body : new Uint8Array(body);
  } finally {
    deadlines.clear(expire);
  }
}

/**
 * The whole stream; undefined as soon as it exceeds `maxBytes`; "late" when
 * it has not ended within `timeoutMs`.
 */
async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  timeoutMs: number,
): Promise<Uint8Array | undefined | "late"> {
  if (body === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), timeoutMs);
  });
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), late]);
      if (next === "late") {
        // Not cancelled: Deno 2.9 then drops the connection before the 408
        // is written. The runtime closes it after the response instead.
        reader.releaseLock();
        return "late";
      }
      const { done, value } = next;
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        return undefined;
      }
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
  return concatBytes(chunks);
}
