/**
 * One call to the app's auth callback: POST a JSON description of the
 * subscriber, read the app's answer. Web `fetch` with an AbortSignal
 * timeout, so it runs alike on every runtime. Every way the call can go
 * wrong is an `Answer` of kind `failed`, never a throw; its detail never
 * holds a forwarded header or the answer's values.
 *
 * @module
 */

import { z } from "zod";
import { checkName, DEFAULT_QUERY_LIMITS } from "../core/http/query.ts";

/** What hypha tells the app about one subscriber. */
export interface CallbackRequest {
  /** The SSE connector's name. */
  readonly connector: string;
  /** The forwarded headers the request had, by lower-case name. */
  readonly headers: Readonly<Record<string, string>>;
  readonly rooms: readonly string[];
  readonly user_id: string | null;
  readonly origin: string | null;
  readonly client_address: string;
}

/** Why a call gave no usable answer. */
export type Failure = "unreachable" | "timeout" | "status" | "malformed";

/** The app's decision, or why there is none. */
export type Answer =
  | {
    readonly kind: "grant";
    readonly userId: string | undefined;
    /** Room patterns, as a token's `rooms` claim. */
    readonly rooms: readonly string[];
    /** ms since the epoch. */
    readonly expiresAt: number | undefined;
  }
  | { readonly kind: "refused"; readonly status: 401 | 403; reason?: string }
  | { readonly kind: "failed"; readonly failure: Failure; detail: string };

/** The problem with a callback URL, or undefined; never echoes it whole. */
export function callbackUrlProblem(url: string): string | undefined {
  const example = 'an http:// or https:// URL like "http://app.internal/auth"';
  if (!URL.canParse(url)) return `expected ${example}, got no URL`;
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return `expected ${example}, got scheme ${JSON.stringify(parsed.protocol)}`;
  }
  if (parsed.username !== "" || parsed.password !== "") {
    return "must not carry a user or password (fetch refuses them)";
  }
  return undefined;
}

/** The 200 answer; other keys are ignored, for apps that say more. */
const grantSchema = z.object({
  user_id: z.string().nullable().optional(),
  rooms: z.array(z.string()).nullable().optional(),
  expires_at: z.number().nullable().optional(),
});

/** Most bytes of an answer read; a bigger one is malformed. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** Longest refusal reason passed on to the client. */
const MAX_REASON = 200;

/** POSTs `body` to `url`; resolves with the app's answer, never rejects. */
export async function callApp(
  url: string,
  body: CallbackRequest,
  timeoutMs: number,
  send: typeof fetch = fetch,
): Promise<Answer> {
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  let text: string;
  try {
    response = await send(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
      },
      body: JSON.stringify(body),
      // A redirect would carry the forwarded cookies elsewhere.
      redirect: "manual",
      signal,
    });
    text = await readCapped(response);
  } catch (error) {
    if (signal.aborted) {
      return failed("timeout", `no answer within ${timeoutMs} ms`);
    }
    if (error instanceof RangeError) return failed("malformed", error.message);
    return failed("unreachable", callError(error, url));
  }
  if (response.status === 401 || response.status === 403) {
    return { kind: "refused", status: response.status, reason: reason(text) };
  }
  if (response.status !== 200) {
    return failed("status", `answered ${response.status}`);
  }
  return parseGrant(text);
}

/** The grant of a 200 answer's body. */
export function parseGrant(text: string): Answer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return failed("malformed", "the answer is not JSON");
  }
  const parsed = grantSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0 ? issue.path.join(".") : "the answer";
    return failed(
      "malformed",
      `${where}: expected ${
        issue.path.length > 0 ? schemaWords(issue.path[0]) : "a JSON object"
      }`,
    );
  }
  const { user_id, rooms, expires_at } = parsed.data;
  const problem = user_id == null
    ? undefined
    : checkName("user_id", user_id, DEFAULT_QUERY_LIMITS);
  if (problem !== undefined) return failed("malformed", problem);
  return {
    kind: "grant",
    userId: user_id ?? undefined,
    rooms: rooms ?? [],
    expiresAt: expires_at == null ? undefined : expires_at * 1000,
  };
}

function schemaWords(key: PropertyKey): string {
  return key === "rooms"
    ? "a list of strings"
    : key === "expires_at"
    ? "a number (Unix seconds)"
    : "a string";
}

function failed(failure: Failure, detail: string): Answer {
  return { kind: "failed", failure, detail };
}

/** The body as text, refusing (RangeError) more than MAX_ANSWER_BYTES. */
async function readCapped(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return "";
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > MAX_ANSWER_BYTES) {
      await reader.cancel().catch(() => {});
      throw new RangeError(`the answer is larger than ${MAX_ANSWER_BYTES} B`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(bytes);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}

/**
 * The app's short reason for a refusal: `{"reason": "..."}` or plain text,
 * first line, printable, at most MAX_REASON characters.
 */
function reason(text: string): string | undefined {
  let said = text;
  try {
    const json = JSON.parse(text);
    said = typeof json?.reason === "string" ? json.reason : "";
  } catch {
    // Plain text.
  }
  // deno-lint-ignore no-control-regex
  const line = said.split(/\r?\n|\r/)[0].replace(/[\u0000-\u001f\u007f]/g, "")
    .trim();
  return line === "" ? undefined : line.slice(0, MAX_REASON);
}

/** Why the call failed, without the URL (it may carry a secret query). */
function callError(error: unknown, url: string): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split(url).join("<callback>").slice(0, 200);
}
