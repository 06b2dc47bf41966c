/**
 * The RabbitMQ connector's queue, exchange, publisher and TLS tables: what
 * hypha declares (or, with create_if_missing = false, only checks), with
 * the arguments the broker takes, where flows publish, and how it dials
 * the broker.
 *
 * @module
 */

import { z } from "zod";
import { boolean, duration, integer, name } from "./schema_values.ts";

const exchangeTypes = ["direct", "fanout", "topic", "headers"] as const;

/** AMQP arguments (`x-queue-type`, `x-message-ttl`...), as the broker takes them. */
const amqpArgs = z.record(
  z.string().min(1),
  z.union([z.string(), z.number(), z.boolean()]),
);

/** An empty name asks the broker for a server-named exclusive queue. */
export const brokerQueue = z.object({
  name: z.string().default(""),
  durable: boolean.default(true),
  auto_delete: boolean.default(false),
  exclusive: boolean.default(false),
  args: amqpArgs.default({}),
  /** false: only check that the queue exists (passive declare). */
  create_if_missing: boolean.default(true),
}).strict();

export const brokerExchange = z.object({
  name: name,
  type: z.enum(exchangeTypes).default("topic"),
  durable: boolean.default(true),
  routing_key: z.union([z.string(), z.array(z.string())]).default("#"),
  args: amqpArgs.default({}),
  /** Arguments of each binding (e.g. x-match for a headers exchange). */
  binding_args: amqpArgs.default({}),
  /** false: only check that the exchange exists (passive declare). */
  create_if_missing: boolean.default(true),
}).strict();

/** TLS to the broker; an amqps:// URL turns it on too. */
export const brokerTls = z.object({
  enabled: boolean.default(false),
  /** Client certificate (PEM file), with `key`. */
  cert: name.optional(),
  key: name.optional(),
  /** CA bundle (PEM file) to trust instead of the system's. */
  ca_cert: name.optional(),
  insecure_skip_verify: boolean.default(false),
}).strict();

/**
 * `[connector.<mq>.publisher]`: the connector is a flow target. Defaults
 * are Mycel's (persistent, application/json); hypha always waits for the
 * broker's confirm.
 */
export const brokerPublisher = z.object({
  /** "" is the default exchange (the routing key names a queue). */
  exchange: z.string().default(""),
  /** The routing key of a flow without a `target`. */
  routing_key: z.string().default(""),
  persistent: boolean.default(true),
  content_type: name.default("application/json"),
  /** true: a message no queue takes is a failure, not silently dropped. */
  mandatory: boolean.default(false),
  /** How long a publish waits for the broker's confirm. */
  confirm_timeout: duration.prefault("30s"),
  /** Most publishes waiting for a confirm; past it, 503 at once. */
  max_pending: integer(1, 1_000_000).default(1000),
}).strict();
