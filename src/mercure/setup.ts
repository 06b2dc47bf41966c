/**
 * Builds a Mercure connector's authorizer from its config: subscriber keys
 * in `auth`, publisher keys in `publisher_auth` (the subscriber keys when it
 * is absent), the cookie `mercureAuthorization` unless named.
 *
 * @module
 */

import { createKeyVerifier, type ReadTextFile } from "../auth/key_verifier.ts";
import { createRefusals } from "../auth/refusal.ts";
import { ConfigError } from "../config/error.ts";
import type { SseConnector } from "../config/schema.ts";
import type { MercureAuthorizer } from "./authorizer.ts";
import { createMercureJwt } from "./jwt.ts";

/** The cookie Mercure clients send their token in, unless configured. */
export const MERCURE_COOKIE = "mercureAuthorization";

const hasKeys = (keys: object | undefined) =>
  keys !== undefined &&
  ["jwt_secret", "public_key_file", "jwks_file"].some((k) =>
    (keys as Record<string, unknown>)[k] !== undefined
  );

/** Creates connector `name`'s authorizer; key trouble is a ConfigError. */
export async function createMercureAuth(
  name: string,
  c: SseConnector,
  file: string,
  readTextFile: ReadTextFile,
): Promise<MercureAuthorizer> {
  const at = `${file}: connector.${name}`;
  const subscriber = c.auth !== undefined && hasKeys(c.auth)
    ? await createKeyVerifier(c.auth, `${at}.auth`, readTextFile)
    : undefined;
  const publisherKeys = c.publisher_auth ?? c.auth;
  if (publisherKeys === undefined || !hasKeys(publisherKeys)) {
    // checkConfig guarantees publisher keys on a Mercure connector.
    throw new ConfigError(`${at}.publisher_auth: no key source`);
  }
  const publisher = c.publisher_auth === undefined && subscriber !== undefined
    ? subscriber
    : await createKeyVerifier(
      publisherKeys,
      `${at}.${c.publisher_auth === undefined ? "auth" : "publisher_auth"}`,
      readTextFile,
    );
  return createMercureJwt({
    subscriber,
    publisher,
    cookie: c.auth?.cookie ?? MERCURE_COOKIE,
    allowQueryToken: c.auth?.allow_query_token ?? false,
    anonymous: c.auth?.anonymous ?? false,
    refusals: createRefusals(name),
  });
}
