/**
 * Typed hypha configs for tests and benchmarks. The types are the schema's
 * input types (`z.input`), so a misspelt key or a value of the wrong type is
 * a compile error, not a config error at run time. Plain functions over
 * object literals; `merge` deep-merges overrides and `toml` writes the text
 * a real hypha process reads. Tests whose subject is the TOML text itself
 * (parse errors, `${VAR}`, messages with key paths) keep writing text.
 *
 * @module
 */

import { stringify } from "smol-toml";
import type { z } from "zod";
import type {
  config,
  flow as flowSchema,
  mqConnector,
  presence,
  restConnector,
  service,
  sseConnector,
} from "../../src/config/schema.ts";
import type { admin, history } from "../../src/config/schema_parts.ts";

/** A whole config, as written (durations and sizes as strings or numbers). */
export type ConfigInput = z.input<typeof config>;
export type SseInput = z.input<typeof sseConnector>;
export type RestInput = z.input<typeof restConnector>;
export type MqInput = z.input<typeof mqConnector>;
export type FlowInput = z.input<typeof flowSchema>;
export type ServiceInput = z.input<typeof service>;
export type AdminInput = z.input<typeof admin>;
export type HistoryInput = z.input<typeof history>;
export type PresenceInput = z.input<typeof presence>;

/** Every key optional, all the way down (arrays are replaced whole). */
export type Overrides<T> = T extends readonly unknown[] ? T
  : T extends object ? { [K in keyof T]?: Overrides<T[K]> }
  : T;

/** Part of a config, for {@link merge}. */
export type ConfigPart = Overrides<ConfigInput>;

/** The broker every test uses. */
export const RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672";

const isTable = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function mergeTwo(base: unknown, over: unknown): unknown {
  if (!isTable(base) || !isTable(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    // undefined removes a key (a table the base has but a test must not).
    if (value === undefined) delete out[key];
    else out[key] = mergeTwo(base[key], value);
  }
  return out;
}

/**
 * `base` with each of `overrides` merged in, in order: tables merge key by
 * key, anything else (arrays too) replaces; a key set to undefined is
 * removed. Neither argument is changed.
 */
export function merge<T>(base: T, ...overrides: Overrides<NoInfer<T>>[]): T {
  return overrides.reduce<unknown>(mergeTwo, base) as T;
}

/** The TOML text of `config` (nested tables as `[a.b.c]` headers). */
export function toml(config: ConfigInput): string {
  return stringify(config);
}

/** An SSE connector on 127.0.0.1, on a free port. */
export function sse(fields: Overrides<SseInput> = {}): SseInput {
  return merge<SseInput>({ type: "sse", host: "127.0.0.1", port: 0 }, fields);
}

/** A REST connector on 127.0.0.1, on a free port. */
export function rest(fields: Overrides<RestInput> = {}): RestInput {
  return merge<RestInput>({ type: "rest", host: "127.0.0.1", port: 0 }, fields);
}

/**
 * The keys of an mq connector on the test broker with a throwaway topic
 * exchange bound with "#" to `queue` ("" for a server-named one), neither
 * durable.
 */
export function throwawayTopology(
  connectionName: string,
  exchange: string,
  queue: string,
): Overrides<MqInput> {
  return {
    url: RABBITMQ_URL,
    connection_name: connectionName,
    exchange: {
      name: exchange,
      type: "topic",
      durable: false,
      routing_key: "#",
    },
    queue: { name: queue, durable: false },
  };
}

/** A RabbitMQ connector on the test broker (`fields` add to it). */
export function rabbit(fields: Overrides<MqInput> = {}): MqInput {
  return merge<MqInput>(
    { type: "mq", driver: "rabbitmq", url: RABBITMQ_URL },
    fields,
  );
}

/** A flow from `from` to `to`; `fields` adds filter or transform. */
export function flow(
  from: FlowInput["from"],
  to: FlowInput["to"],
  fields: Omit<FlowInput, "from" | "to"> = {},
): FlowInput {
  return { from, to, ...fields };
}

/** The admin listener (GET /stats, /metrics) on a free loopback port. */
export const ADMIN: ConfigPart = { service: { admin: { port: 0 } } };

/**
 * The upstream example's publish routes on the REST connector "api": all,
 * a room, a user, to the SSE connector "sse".
 */
export const REST_FLOWS: Record<string, FlowInput> = {
  notify_all: flow(
    { connector: "api", operation: "POST /notify" },
    { connector: "sse", operation: "broadcast" },
  ),
  notify_room: flow(
    { connector: "api", operation: "POST /notify/:room" },
    { connector: "sse", operation: "send_to_room", target: "input.room" },
  ),
  notify_user: flow(
    { connector: "api", operation: "POST /notify/user/:user_id" },
    { connector: "sse", operation: "send_to_user", target: "input.user_id" },
  ),
};

/** Batches on the REST connector "api": POST /rooms to `input.room`. */
export const ROOMS_FLOW: FlowInput = flow(
  { connector: "api", operation: "POST /rooms" },
  { connector: "sse", operation: "send_to_room", target: "input.room" },
);

/** The seed's three flows, reading from the connector "rabbit". */
export const SEED_FLOWS: Record<string, FlowInput> = {
  live_feed: flow(
    { connector: "rabbit", operation: "feed.item" },
    { connector: "sse", operation: "broadcast" },
  ),
  room_updates: flow(
    { connector: "rabbit", operation: "room.event" },
    { connector: "sse", operation: "send_to_room", target: "input.room" },
  ),
  user_notification: flow(
    { connector: "rabbit", operation: "notification.personal" },
    { connector: "sse", operation: "send_to_user", target: "input.user_id" },
  ),
};

/**
 * The upstream SSE example: the SSE connector "sse" and the REST connector
 * "api" on free loopback ports with {@link REST_FLOWS}; `sseFields` and
 * `restFields` add to the two connectors.
 */
export function restExample(
  sseFields: Overrides<SseInput> = {},
  restFields: Overrides<RestInput> = {},
): ConfigInput {
  return {
    connector: { sse: sse(sseFields), api: rest(restFields) },
    flow: REST_FLOWS,
  };
}

/**
 * The SSE and REST connectors, the admin listener (for GET /stats) and the
 * RabbitMQ connector "rabbit" (reconnecting after 200 ms) with `mq` added
 * to it; `flows`: the seed's.
 */
export function rabbitConfig(
  mq: Overrides<MqInput>,
  flows: Record<string, FlowInput> = SEED_FLOWS,
): ConfigInput {
  return {
    service: { admin: { port: 0 } },
    connector: {
      sse: sse(),
      api: rest(),
      rabbit: merge<MqInput>(
        { type: "mq", driver: "rabbitmq", reconnect_delay: "200ms" },
        mq,
      ),
    },
    flow: flows,
  };
}
