/**
 * What the Mercure front end asks of authorization: who a subscriber is
 * (the selectors of private updates it may receive) and what a publisher
 * may publish. src/mercure/jwt.ts answers it from JWTs; the handler never
 * knows how.
 *
 * @module
 */

/** A subscriber's rights. */
export interface SubscriberGrant {
  /** Its token's `mercure.subscribe` selectors; empty when anonymous. */
  readonly allowed: readonly string[];
  /** When the token expires, ms since the epoch: the stream ends then. */
  readonly expiresAt?: number;
}

/** A publisher's rights. */
export interface PublisherGrant {
  /** Its token's `mercure.publish` selectors. */
  readonly allowed: readonly string[];
  /** The token came in a cookie: the request's Origin must be allowed. */
  readonly byCookie: boolean;
}

/** Decides; a Response refuses (401, 403). */
export interface MercureAuthorizer {
  subscriber(
    request: Request,
    queryToken: string | undefined,
  ): SubscriberGrant | Response | Promise<SubscriberGrant | Response>;
  publisher(
    request: Request,
  ): PublisherGrant | Response | Promise<PublisherGrant | Response>;
}
