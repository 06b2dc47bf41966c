/**
 * The configuration schema: the TOML mirror of the upstream HCL. An HCL block
 * `kind "name" { ... }` is the table `[kind.name]`; attribute names are kept.
 * Defaults are written here once; types come from `z.infer`.
 *
 * @module
 */

import { z } from "zod";
import { eventNameProblem } from "../core/field.ts";
import { parseDuration, parseSize } from "./units.ts";

/** A duration string, parsed to milliseconds. */
export const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({
      code: "custom",
      message: 'expected a duration like "30s", "500ms", "2m" or "1h"',
    });
    return z.NEVER;
  }
  return ms;
});

/** A size in bytes: an integer or a string like "256KiB" or "1MiB". */
export const size = z.union([z.number(), z.string()]).transform(
  (value, ctx) => {
    const bytes = parseSize(value);
    if (bytes === undefined) {
      ctx.addIssue({
        code: "custom",
        message: 'expected a size in bytes or like "256KiB", "1MiB"',
      });
      return z.NEVER;
    }
    return bytes;
  },
);

/** An integer; a digit string is accepted, since `${PORT}` yields one. */
const integer = (min: number, max: number) =>
  z.preprocess(
    (v) => typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v,
    z.number().int().min(min).max(max),
  );

const port = integer(0, 65535);
const count = integer(0, Number.MAX_SAFE_INTEGER);
const boolean = z.preprocess(
  (v) => v === "true" ? true : v === "false" ? false : v,
  z.boolean(),
);
const name = z.string().min(1);

/** Bounds on slow clients (slowloris); see src/runtime/. */
const requestLimits = () => ({
  request_timeout: duration.pipe(z.number().min(100, 'at least "100ms"'))
    .prefault("10s"),
  max_pending_connections: integer(1, Number.MAX_SAFE_INTEGER).default(1024),
});

/** `origins` is an alias the upstream example uses; both lists are merged. */
const cors = z.object({
  allowed_origins: z.array(name).optional(),
  origins: z.array(name).optional(),
  allow_credentials: boolean.default(false),
}).strict().transform(({ allowed_origins, origins, allow_credentials }) => ({
  allowed_origins: [...(allowed_origins ?? []), ...(origins ?? [])],
  allow_credentials,
}));

const history = z.object({
  size: count.default(10000),
  max_bytes: size.prefault("64MiB"),
  ttl: duration.prefault("5m"),
  ...{ store: name.optional(), stream: name.optional() }, // README: Cluster
}).strict();
const sseAuth = z.object({
  jwt_secret: name.optional(),
  public_key_file: name.optional(),
  jwks_file: name.optional(),
  algorithms: z.array(name).optional(),
  issuer: name.optional(),
  audience: name.optional(),
  cookie: name.default("hypha_token"),
  allow_query_token: boolean.default(false),
  anonymous: boolean.default(false),
  public_rooms: z.array(name).default([]),
}).strict();

export const sseConnector = z.object({
  type: z.literal("sse"),
  port,
  host: name.default("0.0.0.0"),
  path: z.string().regex(/^\/\S*$/, "expected a path starting with /")
    .default("/events"),
  heartbeat_interval: duration.prefault("30s"),
  retry: duration.prefault("3s"),
  max_buffered: size.prefault("1MiB"),
  /** A resuming client whose queue stays full this long is cut as slow. */
  stall_timeout: duration.prefault("10s"),
  max_connections: count.default(10000),
  /** 0 turns the per-IP limit off. */
  max_connections_per_ip: count.default(0),
  /** "0s" turns it off. */
  max_lifetime: duration.prefault("0s"),
  gap_event: z.string().superRefine((text, ctx) => {
    const problem = eventNameProblem(text);
    if (problem) {
      ctx.addIssue({ code: "custom", message: `event name ${problem}` });
    }
  }).default("gap"),
  history: history.prefault({ size: 10000, max_bytes: "64MiB", ttl: "5m" }),
  ...requestLimits(),
  cors: cors.optional(),
  auth: sseAuth.optional(),
}).strict();

const restAuth = z.object({
  tokens: z.array(z.string()).default([]),
}).strict();

export const restConnector = z.object({
  type: z.literal("rest"),
  port,
  /** Loopback: publishing is a back-end concern; see check_auth.ts. */
  host: name.default("127.0.0.1"),
  max_body: size.prefault("1MiB"),
  ...requestLimits(),
  auth: restAuth.optional(),
  /** Explicitly allow a non-loopback REST source without auth. */
  insecure: boolean.default(false),
}).strict();

const AMQP_HEARTBEAT_MAX =
  'at most "65535s" (AMQP holds the heartbeat in 16 bits)';
const exchangeTypes = ["direct", "fanout", "topic", "headers"] as const;

export const mqConnector = z.object({
  type: z.literal("mq"),
  driver: z.literal("rabbitmq"),
  url: name.optional(),
  host: name.default("localhost"),
  port: port.default(5672),
  username: z.string().default("guest"),
  password: z.string().default("guest"),
  vhost: z.string().default("/"),
  heartbeat: duration.pipe(z.number().max(65_535_000, AMQP_HEARTBEAT_MAX))
    .prefault("10s"),
  connection_name: name.optional(),
  reconnect_delay: duration.prefault("5s"),
  max_reconnects: count.default(0),
  /** Checks the exchanges still exist (re-declared if not); "0s" off. */
  topology_check: duration.prefault("30s"),
  /** An empty name asks the broker for a server-named exclusive queue. */
  queue: z.object({
    name: z.string().default(""),
    durable: boolean.default(true),
    auto_delete: boolean.default(false),
    exclusive: boolean.default(false),
  }).strict().prefault({}),
  exchange: z.object({
    name: name,
    type: z.enum(exchangeTypes).default("topic"),
    durable: boolean.default(true),
    routing_key: z.union([z.string(), z.array(z.string())]).default("#"),
  }).strict().optional(),
  consumer: z.object({
    /** Shorthand for queue.name. */
    queue: z.string().optional(),
    prefetch: integer(0, 65535).default(100),
    auto_ack: boolean.default(false),
    tag: z.string().optional(),
    dlq: z.object({
      enabled: boolean.default(false),
      exchange: name.optional(),
      queue: name.optional(),
    }).strict().prefault({}),
  }).strict().prefault({}),
}).strict().superRefine((c, ctx) => {
  const shorthand = c.consumer.queue;
  if (shorthand && c.queue.name && shorthand !== c.queue.name) {
    ctx.addIssue({
      code: "custom",
      path: ["consumer", "queue"],
      params: { whole: true },
      message:
        `names queue "${shorthand}" but queue.name is "${c.queue.name}"; give one of them`,
    });
  }
}).transform((c) => {
  // consumer.queue is shorthand for queue.name: resolved here, once.
  const { queue: shorthand, ...consumer } = c.consumer;
  return {
    ...c,
    queue: { ...c.queue, name: shorthand || c.queue.name },
    consumer,
  };
});

export const connector = z.discriminatedUnion("type", [
  sseConnector,
  restConnector,
  mqConnector,
]);

/** The operations of the SSE connector, as in the seed. */
export const SSE_OPERATIONS = [
  "broadcast",
  "send_to_room",
  "send_to_user",
] as const;

export const flow = z.object({
  from: z.object({
    connector: name,
    operation: z.string().optional(),
  }).strict(),
  to: z.object({
    connector: name,
    operation: z.enum(SSE_OPERATIONS),
    target: z.string().optional(),
    event: z.string().optional(),
  }).strict(),
}).strict();

export const service = z.object({
  name: name.default("hypha"),
  log_level: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /** Clients reconnect at a random time within this spread after shutdown. */
  shutdown_spread: duration.prefault("5s"),
}).strict();

export const config = z.object({
  service: service.prefault({
    name: "hypha",
    log_level: "info",
    shutdown_spread: "5s",
  }),
  connector: z.record(z.string(), connector).default({}),
  flow: z.record(z.string(), flow).default({}),
}).strict();

export type Config = z.infer<typeof config>;
export type SseConnector = z.infer<typeof sseConnector>;
export type RestConnector = z.infer<typeof restConnector>;
export type MqConnector = z.infer<typeof mqConnector>;
export type Connector = z.infer<typeof connector>;
export type Flow = z.infer<typeof flow>;
