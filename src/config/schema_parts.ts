/**
 * Schema tables shared by several listeners (schema.ts): request limits,
 * bearer tokens, a listener's `tls`, and the admin listener of
 * `[service.admin]` (src/ops/admin.ts).
 *
 * @module
 */

import { z } from "zod";
import {
  boolean,
  count,
  duration,
  integer,
  name,
  port,
  size,
} from "./schema_values.ts";

/** Bounds on slow clients (slowloris); see src/runtime/. */
export const requestLimits = () => ({
  request_timeout: duration.pipe(z.number().min(100, 'at least "100ms"'))
    .prefault("10s"),
  max_pending_connections: integer(1, Number.MAX_SAFE_INTEGER).default(1024),
  /**
   * Deno: enforce the two limits above on the connections hypha accepts
   * (src/runtime/deno_guard.ts); false: served without them. Every Deno
   * listener accepts in hypha's own loop either way (a Deno HTTP server per
   * connection, ~12 KB each), since Deno.serve's stops for good on EMFILE.
   * Unset: on unless bound to loopback (see loopback.ts).
   */
  connection_guard: boolean.optional(),
});

/** An HTTP header name (RFC 9110 token), kept lower case. */
const headerName = z.string().regex(
  /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/,
  'expected a header name like "cookie"',
).transform((h) => h.toLowerCase());

/**
 * Subscribers authorized by the app (src/auth/callback_authorizer.ts):
 * keys of `[connector.<sse>.auth]` beside the JWT ones. The URL is checked
 * in check_auth.ts, where the message can name the key.
 */
export const callbackAuth = () => ({
  callback: name.optional(),
  forward_headers: z.array(headerName).default(["cookie", "authorization"]),
  timeout: duration.pipe(z.number().min(1, 'at least "1ms"')).prefault("2s"),
  /** "0s" turns the cache off (single flight stays). */
  cache_ttl: duration.prefault("30s"),
  cache_size: integer(0, 10_000_000).default(10_000),
  max_inflight: integer(1, 100_000).default(64),
});

/** Bearer tokens of a listener that needs them (REST source, admin). */
export const restAuth = z.object({
  tokens: z.array(z.string()).default([]),
}).strict();

/** A listener's certificate and private key, PEM files; see src/ops/tls.ts. */
export const listenerTls = z.object({
  cert_file: name,
  key_file: name,
}).strict();

/** The operations listener: /metrics, /healthz, /readyz, /stats. */
export const admin = z.object({
  /** Loopback: metrics and stats are for the operator; see check_auth.ts. */
  host: name.default("127.0.0.1"),
  port,
  ...requestLimits(),
  auth: restAuth.optional(),
  /** Explicitly allow a non-loopback admin listener without a token. */
  insecure: boolean.default(false),
  tls: listenerTls.optional(),
}).strict();

/** `origins` is an alias the upstream example uses; both lists are merged. */
export const cors = z.object({
  allowed_origins: z.array(name).optional(),
  origins: z.array(name).optional(),
  allow_credentials: boolean.default(false),
  /** Mercure: origins browsers may publish from (and with the cookie). */
  publish_origins: z.array(name).optional(),
}).strict().transform((
  { allowed_origins, origins, allow_credentials, publish_origins },
) => ({
  allowed_origins: [...(allowed_origins ?? []), ...(origins ?? [])],
  allow_credentials,
  publish_origins,
}));

/** Where JWTs are verified with: one key source, narrowed and checked. */
const jwtKeys = () => ({
  jwt_secret: name.optional(),
  public_key_file: name.optional(),
  jwks_file: name.optional(),
  algorithms: z.array(name).optional(),
  issuer: name.optional(),
  audience: name.optional(),
});

/** `[connector.<sse>.publisher_auth]`: Mercure publishers' keys. */
export const publisherAuth = z.object(jwtKeys()).strict();

/** `[connector.<sse>.auth]`: JWT verification, the app's callback, or both. */
export const sseAuth = z.object({
  ...jwtKeys(),
  /** `hypha_token`, or `mercureAuthorization` on a Mercure connector. */
  cookie: name.optional(),
  allow_query_token: boolean.default(false),
  anonymous: boolean.default(false),
  public_rooms: z.array(name).default([]),
  ...callbackAuth(),
}).strict();

export type AdminListener = z.infer<typeof admin>;
export type Tls = z.infer<typeof listenerTls>;

/**
 * `[connector.<sse>.presence]`: counts per room and user, asked on the REST
 * connector (src/sources/presence_api.ts), told through lifecycle flows.
 */
export const presence = z.object({
  /** Answers list the user ids of a room, at most `max_members` of them. */
  members: boolean.default(false),
  max_members: integer(1, 1_000_000).default(1000),
  /** A room is vacated only after it stayed empty this long. */
  vacate_after: duration.prefault("5s"),
  /** Tells a room's subscribers `join` and `leave` (user ids: opt-in). */
  join_leave: boolean.default(false),
  /** Lifecycle events waiting for their flows; past it they are dropped. */
  queue_size: integer(1, 10_000_000).default(10_000),
  /** Cluster: the fanout exchange; `<history stream>.presence` when absent. */
  exchange: name.optional(),
}).strict();

/** `[connector.<sse>.history]`: what a resume can replay, and where. */
export const history = z.object({
  size: count.default(10000),
  max_bytes: size.prefault("64MiB"),
  ttl: duration.prefault("5m"),
  /** An mq connector: the history is a RabbitMQ stream shared by a cluster. */
  store: name.optional(),
  /** The stream's name; `hypha.<sse connector name>` when absent. */
  stream: name.optional(),
}).strict();
