/**
 * Subscribers authorized by the app's own sessions: hypha forwards the
 * subscriber's credentials (its cookie, its Authorization header) to the
 * app's callback and binds the connection to the answer, as it binds one
 * to a token's claims: `user_id` is the user, `rooms` the room patterns it
 * may join, `expires_at` when the stream ends.
 *
 * A storm must not reach the app. Answers are kept per (forwarded
 * credentials, Origin, requested audience): grants for `cache_ttl` (never
 * past their `expires_at`), refusals for REFUSAL_TTL_MS; identical
 * requests in flight share one call; at most `max_inflight` calls run at
 * once. Failure is closed: no usable answer is a 503.
 *
 * @module
 */

import type { Authorizer, Grant } from "../core/http/handler.ts";
import { type ConnectionInfo, headerOf } from "../core/http/http.ts";
import type { SubscriberQuery } from "../core/http/query.ts";
import { anonymousGrant } from "./authorizer.ts";
import { type Answer, callApp, type CallbackRequest } from "./callback.ts";
import type { CallbackProbe } from "./callback_probe.ts";
import { createCallLimit } from "./call_limit.ts";
import type { Refusals } from "./refusal.ts";
import { compileRooms, type RoomMatcher } from "./rooms.ts";
import { createSharedCache } from "./shared_cache.ts";

/**
 * How long a 401 or 403 is kept (at most `cache_ttl`): long enough that a
 * refused client retrying in a loop costs the app one call per 5 s, short
 * enough that a user who just logged in is let in soon after.
 */
export const REFUSAL_TTL_MS = 5_000;

/** Settings of the callback of one SSE connector. */
export interface CallbackOptions {
  readonly url: string;
  /** The SSE connector's name, sent to the app. */
  readonly connector: string;
  /** Lower-case names of the headers forwarded (and keyed on). */
  readonly forwardHeaders: readonly string[];
  readonly timeoutMs: number;
  readonly cacheTtlMs: number;
  readonly cacheSize: number;
  readonly maxInflight: number;
  /** How long a subscriber waits for a call to start; default timeoutMs. */
  readonly waitMs?: number;
  readonly anonymous: boolean;
  readonly publicRooms: readonly string[];
  readonly refusals: Refusals;
  readonly probe: CallbackProbe;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

/** A 200 answer with its room patterns compiled once. */
type Kept =
  | Exclude<Answer, { kind: "grant" }>
  | (Extract<Answer, { kind: "grant" }> & { readonly allowed: RoomMatcher })
  | { readonly kind: "busy" };

/** Creates the authorizer that asks the app. */
export function createCallbackAuthorizer(o: CallbackOptions): Authorizer {
  const now = o.now ?? Date.now;
  const isPublic = compileRooms(o.publicRooms);
  const limit = createCallLimit(o.maxInflight, o.waitMs ?? o.timeoutMs);
  const answers = createSharedCache<Kept>({
    maxEntries: o.cacheSize,
    now,
    ttlOf: (kept) =>
      kept.kind === "grant"
        ? Math.min(o.cacheTtlMs, (kept.expiresAt ?? Infinity) - now())
        : kept.kind === "refused"
        ? Math.min(o.cacheTtlMs, REFUSAL_TTL_MS)
        : 0,
  });

  const call = async (body: CallbackRequest): Promise<Kept> => {
    const started = performance.now();
    const answer = await callApp(o.url, body, o.timeoutMs, o.fetch);
    const seconds = (performance.now() - started) / 1000;
    if (answer.kind === "failed") {
      o.probe.called(answer.failure, seconds, answer.detail);
      return answer;
    }
    o.probe.called(answer.kind === "grant" ? "granted" : "refused", seconds);
    return answer.kind === "grant"
      ? { ...answer, allowed: compileRooms(answer.rooms) }
      : answer;
  };

  return async (request, query, info) => {
    const headers = forwarded(request, info, o.forwardHeaders);
    // Nothing to forward: nothing the app could recognize, so no call.
    if (o.forwardHeaders.length > 0 && headers.length === 0) {
      return anonymousGrant(
        query,
        o.anonymous,
        isPublic,
        o.refusals.unauthorized,
        "a session is required",
      );
    }
    const body: CallbackRequest = {
      connector: o.connector,
      headers: Object.fromEntries(headers),
      rooms: [...query.rooms].sort(),
      user_id: query.userId ?? null,
      origin: headerOf(request, info, "origin"),
      client_address: info.remoteAddr,
    };
    const key = await keyOf(headers, body);
    const [kept, lookup] = await answers.get(key, async () => {
      const result = await limit(() => call(body));
      return result === "busy" ? { kind: "busy" } : result;
    });
    o.probe.looked(lookup);
    return decide(kept, query);
  };

  /** The grant or refusal `kept` means for `query`. */
  function decide(kept: Kept, query: SubscriberQuery): Grant | Response {
    const { unauthorized, forbidden, unavailable } = o.refusals;
    switch (kept.kind) {
      case "busy":
        o.probe.busy();
        return unavailable("authorization is busy, retry later");
      case "failed":
        return unavailable("authorization is unavailable, retry later");
      case "refused":
        return kept.status === 401
          ? unauthorized(kept.reason ?? "the app does not know this session")
          : forbidden(kept.reason ?? "the app refused this subscription");
    }
    if (kept.expiresAt !== undefined && kept.expiresAt <= now()) {
      return unauthorized("the session has expired");
    }
    if (query.userId !== undefined && query.userId !== kept.userId) {
      return forbidden(
        `user_id ${JSON.stringify(query.userId)} is not the session's user`,
      );
    }
    for (const room of query.rooms) {
      if (!kept.allowed(room) && !isPublic(room)) {
        return forbidden(
          `room ${JSON.stringify(room)} is not allowed by the app`,
        );
      }
    }
    return {
      rooms: query.rooms,
      userId: kept.userId,
      expiresAt: kept.expiresAt,
    };
  }
}

/** The forwarded headers present, in the configured order. */
function forwarded(
  request: Request,
  info: ConnectionInfo,
  names: readonly string[],
): [string, string][] {
  const found: [string, string][] = [];
  for (const name of names) {
    const value = headerOf(request, info, name);
    if (value !== null && value !== "") found.push([name, value]);
  }
  return found;
}

const encoder = new TextEncoder();

/**
 * The cache key: a SHA-256 of what the answer may depend on, so the cache
 * holds no credential and each entry is small whatever the cookie's size.
 * The client's address is left out: one session behind many addresses
 * (mobile, NAT) would otherwise cost a call per address.
 */
async function keyOf(
  headers: readonly [string, string][],
  body: CallbackRequest,
): Promise<string> {
  const identity = JSON.stringify([
    headers,
    body.origin,
    body.rooms,
    body.user_id,
  ]);
  const digest = await crypto.subtle.digest(
    "SHA-256",
    encoder.encode(identity),
  );
  let hex = "";
  for (const byte of new Uint8Array(digest)) {
    hex += byte.toString(16).padStart(2, "0");
  }
  return hex;
}
