/**
 * Reads a JSON object body with a byte limit, without ever buffering more
 * than the limit, and says precisely what is wrong when it is not one.
 *
 * @module
 */

import { errorMessage } from "../core/errors.ts";
import { concatBytes } from "../core/bytes.ts";

/** A parsed object, or the status and reason to refuse it with. */
export type BodyResult =
  | { readonly ok: true; readonly value: Record<string, unknown> }
  | { readonly ok: false; readonly status: number; readonly reason: string };

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Reads `request`'s body as a JSON object of at most `maxBytes`. */
export async function readJsonObject(
  request: Request,
  maxBytes: number,
): Promise<BodyResult> {
  const type = request.headers.get("content-type") ?? "";
  if (!JSON_TYPE.test(type)) {
    return {
      ok: false,
      status: 415,
      reason: `expected content-type application/json, got ${
        type === "" ? "none" : JSON.stringify(type)
      }`,
    };
  }
  const declared = Number(request.headers.get("content-length") ?? "0");
  const tooLarge = {
    ok: false,
    status: 413,
    reason: `body is larger than max_body (${maxBytes} bytes)`,
  } as const;
  if (declared > maxBytes) return tooLarge;
  const bytes = await readLimited(request.body, maxBytes);
  if (bytes === undefined) return tooLarge;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    const detail = errorMessage(error);
    return {
      ok: false,
      status: 400,
      reason: `body is not valid JSON: ${detail}`,
    };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return {
      ok: false,
      status: 400,
      reason: `body must be a JSON object, got ${
        value === null
          ? "null"
          : Array.isArray(value)
          ? "an array"
          : typeof value
      }`,
    };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** The whole stream, or undefined as soon as it exceeds `maxBytes`. */
async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  if (body === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}
