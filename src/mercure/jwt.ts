/**
 * Mercure's JWT rules: the token comes from `Authorization: Bearer`, else
 * the `authorization` query parameter (when allowed), else the cookie
 * (`mercureAuthorization` unless configured); its `mercure` claim holds the
 * `subscribe` and `publish` selectors. Subscriber and publisher tokens may
 * be verified with different keys.
 *
 * @module
 */

import { readCookie } from "../auth/authorizer.ts";
import type { Refusals } from "../auth/refusal.ts";
import type { Verifier } from "../auth/verify.ts";
import { bearerToken } from "../core/http/http.ts";
import type {
  MercureAuthorizer,
  PublisherGrant,
  SubscriberGrant,
} from "./authorizer.ts";

/** Settings of one Mercure connector's authorization. */
export interface MercureJwtOptions {
  /** Absent: every subscriber is anonymous. */
  readonly subscriber?: Verifier;
  readonly publisher: Verifier;
  readonly cookie: string;
  readonly allowQueryToken: boolean;
  /** Subscribers without a token receive public updates. */
  readonly anonymous: boolean;
  readonly refusals: Refusals;
}

/** The selectors under `mercure.<key>`; undefined when malformed. */
export function mercureSelectors(
  claim: unknown,
  key: "subscribe" | "publish",
): readonly string[] | undefined {
  if (claim === undefined) return [];
  if (typeof claim !== "object" || claim === null) return undefined;
  const list = (claim as Record<string, unknown>)[key];
  if (list === undefined) return [];
  if (!Array.isArray(list) || !list.every((s) => typeof s === "string")) {
    return undefined;
  }
  return list;
}

/** Creates the authorizer of one Mercure connector. */
export function createMercureJwt(
  options: MercureJwtOptions,
): MercureAuthorizer {
  const { unauthorized, forbidden } = options.refusals;

  /** The token and whether it came from the cookie. */
  const find = (request: Request, queryToken: string | undefined) => {
    const header = bearerToken(request);
    if (header !== undefined) return { token: header, byCookie: false };
    if (queryToken !== undefined) return { token: queryToken, byCookie: false };
    const cookie = readCookie(request.headers.get("cookie"), options.cookie);
    return { token: cookie || undefined, byCookie: true };
  };

  return {
    async subscriber(request, queryToken): Promise<SubscriberGrant | Response> {
      if (queryToken !== undefined && !options.allowQueryToken) {
        return unauthorized("query tokens are disabled", "invalid_request");
      }
      const { token } = find(request, queryToken);
      if (token === "malformed") {
        return unauthorized(
          "the Authorization header must be a Bearer token",
          "invalid_request",
        );
      }
      if (token === undefined || options.subscriber === undefined) {
        if (options.anonymous || options.subscriber === undefined) {
          return { allowed: [] };
        }
        return unauthorized("a token is required");
      }
      const verdict = await options.subscriber(token);
      if (!verdict.ok) return unauthorized(verdict.reason, "invalid_token");
      const allowed = mercureSelectors(verdict.claims.mercure, "subscribe");
      if (allowed === undefined) {
        return unauthorized(
          "token claim mercure.subscribe is not a list of strings",
          "invalid_token",
        );
      }
      const exp = verdict.claims.exp;
      return {
        allowed,
        expiresAt: typeof exp === "number" ? exp * 1000 : undefined,
      };
    },

    async publisher(request): Promise<PublisherGrant | Response> {
      const { token, byCookie } = find(request, undefined);
      if (token === "malformed") {
        return unauthorized(
          "the Authorization header must be a Bearer token",
          "invalid_request",
        );
      }
      if (token === undefined) return unauthorized("a token is required");
      const verdict = await options.publisher(token);
      if (!verdict.ok) return unauthorized(verdict.reason, "invalid_token");
      const allowed = mercureSelectors(verdict.claims.mercure, "publish");
      if (allowed === undefined) {
        return unauthorized(
          "token claim mercure.publish is not a list of strings",
          "invalid_token",
        );
      }
      if (allowed.length === 0) {
        return forbidden("the token's mercure.publish claim allows no topic");
      }
      return { allowed, byCookie };
    },
  };
}
