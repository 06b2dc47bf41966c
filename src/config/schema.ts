/**
 * The configuration schema: the TOML mirror of the upstream HCL. An HCL block
 * `kind "name" { ... }` is the table `[kind.name]`; attribute names are kept.
 * Defaults are written here once; types come from `z.infer`.
 *
 * @module
 */

import { z } from "zod";
import { eventNameProblem } from "../core/hub/field.ts";
import {
  brokerExchange,
  brokerPublisher,
  brokerQueue,
  brokerTls,
} from "./schema_broker.ts";
import {
  admin,
  cors,
  history,
  listenerTls,
  presence,
  publisherAuth,
  requestLimits,
  restAuth,
  sseAuth,
} from "./schema_parts.ts";
import {
  boolean,
  count,
  duration,
  integer,
  name,
  port,
  size,
} from "./schema_values.ts";

export { duration, publisherAuth, size, sseAuth };

/** The operations a flow may read from an SSE connector (its lifecycle). */
export const LIFECYCLE_OPERATIONS = [
  "connected",
  "disconnected",
  "room_occupied",
  "room_vacated",
] as const;

/** The protocols an SSE connector speaks. */
export const PROTOCOLS = ["sse", "mercure"] as const;

/** The path a connector serves when none is given. */
export const DEFAULT_PATHS: Readonly<Record<typeof PROTOCOLS[number], string>> =
  { sse: "/events", mercure: "/.well-known/mercure" };

/** The sse connector's keys (HCL reads them one by one). */
export const sseConnectorFields = z.object({
  type: z.literal("sse"),
  /** "mercure" speaks the Mercure protocol (src/mercure/). */
  protocol: z.enum(PROTOCOLS).default("sse"),
  port,
  host: name.default("0.0.0.0"),
  path: z.string().regex(/^\/\S*$/, "expected a path starting with /")
    .optional(),
  /** Mercure: largest publish form. */
  max_body: size.prefault("1MiB"),
  /** "0s" (or 0) turns heartbeats off. */
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
  /** Mercure: publishers' keys; the subscribers' (`auth`) when absent. */
  publisher_auth: publisherAuth.optional(),
  tls: listenerTls.optional(),
  /** Serves the live console at GET /console (src/ops/console.ts). */
  console: boolean.default(false),
  presence: presence.optional(),
}).strict();

export const sseConnector = sseConnectorFields.transform((c) => ({
  ...c,
  path: c.path ?? DEFAULT_PATHS[c.protocol],
}));

export const restConnector = z.object({
  type: z.literal("rest"),
  port,
  /** Loopback: publishing is a back-end concern; see check_auth.ts. */
  host: name.default("127.0.0.1"),
  max_body: size.prefault("1MiB"),
  /** Most messages one batch (a JSON array body) may carry. */
  max_batch: integer(1, 100_000).default(1000),
  ...requestLimits(),
  auth: restAuth.optional(),
  /** Explicitly allow a non-loopback REST source without auth. */
  insecure: boolean.default(false),
  tls: listenerTls.optional(),
}).strict();

const AMQP_HEARTBEAT_MAX =
  'at most "65535s" (AMQP holds the heartbeat in 16 bits)';
export const mqConnector = z.object({
  type: z.literal("mq"),
  driver: z.literal("rabbitmq"),
  url: name.optional(),
  host: name.default("localhost"),
  /** 5672, or 5671 with TLS. */
  port: port.optional(),
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
  queue: brokerQueue.prefault({}),
  exchange: brokerExchange.optional(),
  /** Makes the connector a flow target (see src/rabbitmq/publisher.ts). */
  publisher: brokerPublisher.optional(),
  tls: brokerTls.optional(),
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
  /** A Mercure update (a connector with protocol = "mercure"). */
  "publish",
] as const;

export const flow = z.object({
  from: z.object({
    connector: name,
    operation: z.string().optional(),
  }).strict(),
  to: z.object({
    connector: name,
    /** An SSE connector's operation; a publisher takes none. */
    operation: z.enum(SSE_OPERATIONS).optional(),
    target: z.string().optional(),
    event: z.string().optional(),
    /** Mercure: the update's topics, literal or `input.` expressions. */
    topic: z.union([z.string(), z.array(z.string())]).optional(),
    /** Mercure: true, or an expression read as a boolean. */
    private: z.union([z.boolean(), z.string()]).optional(),
    /** Mercure: an expression giving the update's id. */
    id: z.string().optional(),
  }).strict(),
  /** CEL: only messages for which it is true go through this flow. */
  filter: z.string().optional(),
  /** CEL per output field: the event's data is an object of these fields. */
  transform: z.record(z.string(), z.string()).optional(),
}).strict();

export const service = z.object({
  name: name.default("hypha"),
  log_level: z.enum(["debug", "info", "warn", "error"]).default("info"),
  log_format: z.enum(["text", "json"]).default("text"),
  admin: admin.optional(),
  /** Clients reconnect at a random time within this spread after shutdown. */
  shutdown_spread: duration.prefault("5s"),
  /**
   * How long broker sources feeding an in-memory history wait after start,
   * so returning subscribers get the queued backlog; unset: the largest
   * `retry` they serve plus 2 s.
   */
  startup_grace: duration.optional(),
  /** Delivery threads sharing the SSE ports (src/workers); "auto": one per core. */
  workers: z.union([z.int().min(1).max(256), z.literal("auto")]).default(1),
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
export type PresenceConfig = z.infer<typeof presence>;
export { presence };
