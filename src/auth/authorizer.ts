/**
 * Decides who a subscriber is: finds the token (Authorization header, then
 * cookie, then `?token=` when allowed), verifies it, and binds the
 * connection to its claims: `sub` is the user, `rooms` the rooms it may
 * join, `exp` when the stream ends. Without a token, only an anonymous
 * connection to public rooms, when the config allows it; or, with an auth
 * callback, whatever the app answers for a request that has no valid token
 * (a valid token never calls back).
 *
 * Refusals are plain text with `WWW-Authenticate` (RFC 6750); none of them
 * repeats the token.
 *
 * @module
 */

import type { Authorizer, Grant } from "../core/http/handler.ts";
import { bearerToken } from "../core/http/http.ts";
import {
  checkName,
  DEFAULT_QUERY_LIMITS,
  type SubscriberQuery,
} from "../core/http/query.ts";
import { createRefusals, type Refusals } from "./refusal.ts";
import { compileRooms, type RoomMatcher, roomsClaim } from "./rooms.ts";
import type { Verifier } from "./verify.ts";

/** Settings of subscriber authentication on one SSE connector. */
export interface SubscriberAuthOptions {
  readonly verify: Verifier;
  /** Shown as the `realm` of `WWW-Authenticate`: the connector's name. */
  readonly realm: string;
  readonly cookie: string;
  readonly allowQueryToken: boolean;
  readonly anonymous: boolean;
  readonly publicRooms: readonly string[];
  /** Asked when no valid token is presented (the app's callback). */
  readonly fallback?: Authorizer;
  /** Shared with the fallback, so both refuse alike; else built from realm. */
  readonly refusals?: Refusals;
}

/** Creates the authorizer the SSE handler calls for every connection. */
export function createAuthorizer(options: SubscriberAuthOptions): Authorizer {
  const isPublic = compileRooms(options.publicRooms);
  const { unauthorized, forbidden } = options.refusals ??
    createRefusals(options.realm);

  return async (request, query, info) => {
    // A token in the URL ends up in proxy logs and browser history; refusing
    // it loudly beats a client that silently connects as anonymous.
    if (query.token !== undefined && !options.allowQueryToken) {
      return unauthorized("query tokens are disabled", "invalid_request");
    }
    const found = findToken(request, options.cookie, query.token);
    // Without a token hypha can verify, the app decides (its own
    // Authorization scheme or session cookie), when it is asked to.
    const { fallback } = options;
    if (fallback && (found === undefined || found === "malformed")) {
      return fallback(request, query, info);
    }
    if (found === "malformed") {
      return unauthorized(
        "the Authorization header must be a Bearer token",
        "invalid_request",
      );
    }
    if (found === undefined) {
      return anonymousGrant(query, options.anonymous, isPublic, unauthorized);
    }

    const verdict = await options.verify(found);
    if (!verdict.ok) {
      if (fallback) return fallback(request, query, info);
      return unauthorized(verdict.reason, "invalid_token");
    }
    const { sub, exp } = verdict.claims;
    if (sub !== undefined && typeof sub !== "string") {
      return unauthorized("token claim sub is not a string", "invalid_token");
    }
    // The user is held to the rule publish targets are: one limit for both.
    const subProblem = sub === undefined
      ? undefined
      : checkName("user", sub, DEFAULT_QUERY_LIMITS);
    if (subProblem !== undefined) {
      return unauthorized(`token claim sub: ${subProblem}`, "invalid_token");
    }
    const patterns = roomsClaim(verdict.claims.rooms);
    if (patterns === undefined) {
      return unauthorized(
        "token claim rooms is not a list of strings",
        "invalid_token",
      );
    }
    if (query.userId !== undefined && query.userId !== sub) {
      return forbidden(
        `user_id ${JSON.stringify(query.userId)} is not the token's subject`,
      );
    }
    const allowed = compileRooms(patterns);
    for (const room of query.rooms) {
      if (!allowed(room) && !isPublic(room)) {
        return forbidden(
          `room ${JSON.stringify(room)} is not allowed by the token`,
        );
      }
    }
    return {
      rooms: query.rooms,
      userId: sub,
      expiresAt: typeof exp === "number" ? exp * 1000 : undefined,
    };
  };
}

/**
 * What a subscriber without credentials may have: public rooms, when the
 * connector allows anonymous subscribers; otherwise a 401.
 */
export function anonymousGrant(
  query: SubscriberQuery,
  anonymous: boolean,
  isPublic: RoomMatcher,
  unauthorized: Refusals["unauthorized"],
  required = "a token is required",
): Grant | Response {
  if (!anonymous) return unauthorized(required);
  if (query.userId !== undefined) {
    return unauthorized("user_id needs a token");
  }
  for (const room of query.rooms) {
    if (!isPublic(room)) {
      return unauthorized(`room ${JSON.stringify(room)} needs a token`);
    }
  }
  return { rooms: query.rooms, userId: undefined };
}

/**
 * The presented token, in the order: header, cookie, query. An
 * empty cookie counts as none (that is how sites log out).
 */
function findToken(
  request: Request,
  cookie: string,
  queryToken: string | undefined,
): string | "malformed" | undefined {
  const fromHeader = bearerToken(request);
  if (fromHeader !== undefined) return fromHeader;
  const fromCookie = readCookie(request.headers.get("cookie"), cookie);
  if (fromCookie) return fromCookie;
  return queryToken || undefined;
}

/** The value of cookie `name` in a `Cookie` header (the first one wins). */
export function readCookie(
  header: string | null,
  name: string,
): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1);
    }
    return value;
  }
  return undefined;
}
