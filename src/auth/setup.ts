/**
 * Builds the subscriber authorizer of every SSE connector that has an
 * `[connector.<name>.auth]` table: JWT verification, the app's callback, or
 * both. Reads key files with the runtime's reader
 * (passed in by the entrypoint), so a missing or unusable key is a config
 * error at start, never a 500 at the first connection.
 *
 * @module
 */

import { ConfigError } from "../config/error.ts";
import type { Config, SseConnector } from "../config/schema.ts";
import type { Authorizer } from "../core/http/handler.ts";
import { createAuthorizer } from "./authorizer.ts";
import { createCallbackAuthorizer } from "./callback_authorizer.ts";
import { type CallbackProbe, createCallbackProbe } from "./callback_probe.ts";
import { createRefusals, type Refusals } from "./refusal.ts";
import { createKeyVerifier, type ReadTextFile } from "./key_verifier.ts";
import type { MercureAuthorizer } from "../mercure/authorizer.ts";
import { createMercureAuth } from "../mercure/setup.ts";

export type { ReadTextFile } from "./key_verifier.ts";

/** What subscriber authentication needs wired into the app. */
export interface SubscriberAuth {
  /** One authorizer per SSE connector with `auth`, by connector name. */
  readonly authorizers: Record<string, Authorizer>;
  /** What each connector's auth callback reports, by connector name. */
  readonly callbacks: Record<string, CallbackProbe>;
  /** Subscribers and publishers of each Mercure connector, by name. */
  readonly mercure: Record<string, MercureAuthorizer>;
}

/**
 * Builds each SSE connector's authorizer: JWT verification, the app's
 * callback, or both (a valid token first; without one, the callback).
 */
export async function createSubscriberAuth(
  config: Config,
  file: string,
  readTextFile: ReadTextFile,
): Promise<SubscriberAuth> {
  const authorizers: Record<string, Authorizer> = {};
  const callbacks: Record<string, CallbackProbe> = {};
  const mercure: Record<string, MercureAuthorizer> = {};
  for (const [name, connector] of Object.entries(config.connector)) {
    if (connector.type === "sse" && connector.protocol === "mercure") {
      mercure[name] = await createMercureAuth(
        name,
        connector,
        file,
        readTextFile,
      );
      continue;
    }
    if (connector.type !== "sse" || connector.auth === undefined) continue;
    const auth = connector.auth;
    const at = `${file}: connector.${name}.auth`;
    const refusals = createRefusals(name);
    let fallback: Authorizer | undefined;
    if (auth.callback !== undefined) {
      callbacks[name] = createCallbackProbe();
      fallback = callbackAuthorizer(name, auth, refusals, callbacks[name]);
    }
    if (!hasKeySource(auth)) {
      // checkConfig guarantees a key source or a callback.
      if (fallback === undefined) throw new ConfigError(`${at}: no key source`);
      authorizers[name] = fallback;
      continue;
    }
    authorizers[name] = createAuthorizer({
      verify: await createKeyVerifier(auth, at, readTextFile),
      realm: name,
      cookie: auth.cookie ?? "hypha_token",
      allowQueryToken: auth.allow_query_token,
      anonymous: auth.anonymous,
      publicRooms: auth.public_rooms,
      fallback,
      refusals,
    });
  }
  return { authorizers, callbacks, mercure };
}

function callbackAuthorizer(
  name: string,
  auth: Auth,
  refusals: Refusals,
  probe: CallbackProbe,
): Authorizer {
  return createCallbackAuthorizer({
    url: auth.callback!,
    connector: name,
    forwardHeaders: auth.forward_headers,
    timeoutMs: auth.timeout,
    cacheTtlMs: auth.cache_ttl,
    cacheSize: auth.cache_size,
    maxInflight: auth.max_inflight,
    anonymous: auth.anonymous,
    publicRooms: auth.public_rooms,
    refusals,
    probe,
  });
}

const hasKeySource = (auth: Auth) =>
  auth.jwt_secret !== undefined || auth.public_key_file !== undefined ||
  auth.jwks_file !== undefined;

type Auth = NonNullable<SseConnector["auth"]>;
