/**
 * Mycel's `connector "name" { ... }` blocks for the three kinds hypha has:
 * sse, rest and mq (RabbitMQ). Mycel's defaults are written into the mapped
 * config wherever hypha's own default differs, each with a note.
 *
 * @module
 */

import {
  type Block,
  lookup,
  type Mapping,
  readBlock,
  type Rule,
  where,
} from "./context.ts";
import {
  publisherAuth,
  restConnector,
  sseAuth,
  sseConnectorFields,
} from "../schema.ts";
import { readRabbit } from "./rabbitmq.ts";

/**
 * Every key of hypha's own connector is accepted in HCL as it is in TOML
 * (retry, history, auth, limits...); Mycel's keys are ruled below.
 */
const copyAll = (keys: readonly string[]): Record<string, Rule> =>
  Object.fromEntries(keys.map((k) => [k, "copy" as const]));

const SSE_RULES: Record<string, Rule> = {
  ...copyAll(Object.keys(sseConnectorFields.shape)),
  type: "copy",
  port: "copy",
  host: "copy",
  path: "copy",
  heartbeat_interval: "copy",
  cors: { block: (m, b) => readBlock(m, b, CORS_RULES) },
  // Read key by key, so an error in it names its own line.
  auth: {
    block: (m, b) => readBlock(m, b, copyAll(Object.keys(sseAuth.shape))),
  },
  publisher_auth: {
    block: (m, b) => readBlock(m, b, copyAll(Object.keys(publisherAuth.shape))),
  },
};

const CORS_RULES: Record<string, Rule> = {
  origins: {
    read: (m, b, v) =>
      m.set(
        [...b.path, "origins"],
        typeof v === "string" ? v.split(",") : v,
        where(b, "origins"),
      ),
  },
  allowed_origins: "copy",
  allow_credentials: "copy",
  publish_origins: "copy",
};

const REST_RULES: Record<string, Rule> = {
  ...copyAll(Object.keys(restConnector.shape)),
  type: "copy",
  port: "copy",
  host: "copy",
  max_body: "copy",
  insecure: "copy",
  auth: "copy",
  format: {
    only: "json",
    advice: 'hypha reads JSON bodies only; remove it or write format = "json"',
  },
  cors: {
    refuse:
      "hypha's REST connector is a back-end publish route, not called from browsers; remove the cors block",
  },
};

/** Reads connector `name`; its type decides the rules. */
export function readConnector(m: Mapping, block: Block): void {
  const type = m.value(block, "type", block.json.type);
  if (type === "sse") {
    readBlock(m, block, SSE_RULES);
    defaultPort(m, block, 3002);
  } else if (type === "rest") {
    readBlock(m, block, REST_RULES);
    defaultPort(m, block, 3000);
    if (block.json.host === undefined) {
      m.note(
        [...block.path, "host"],
        "differs",
        "Mycel listens on every interface; hypha's publish route listens on 127.0.0.1 unless host is set (and then wants auth or insecure = true)",
      );
    }
  } else if (type === "mq" || type === "rabbitmq") {
    readRabbit(m, block, type);
  } else if (type === "http") {
    m.fail(
      block,
      "type",
      'Mycel\'s "http" connector calls other servers; hypha only receives: use type = "rest" for an HTTP publish route',
    );
  } else if (type !== undefined) {
    m.fail(
      block,
      "type",
      `hypha has no "${type}" connector (it has "sse", "rest" and "mq" with driver "rabbitmq"); remove the connector and the flows that use it`,
    );
  } else {m.fail(
      block,
      undefined,
      'has no type; write type = "sse", "rest" or "mq"',
    );}
}

/** Mycel takes port 0 or no port as its default port; hypha wants one. */
function defaultPort(m: Mapping, block: Block, port: number): void {
  const path = [...block.path, "port"];
  const given = lookup(m.raw, path) ?? 0;
  // Translated, env("X") is "${X:-}": give it Mycel's port as its default.
  const unsetEnv = typeof given === "string" &&
    /^\$\{[A-Za-z_][A-Za-z0-9_]*:-0?\}$/.test(given);
  if (given !== 0 && given !== "0" && given !== "" && !unsetEnv) return;
  const value = unsetEnv ? given.replace(/:-0?\}$/, `:-${port}}`) : port;
  m.set(path, value, where(block, "port"));
  m.note(
    path,
    "default",
    `port ${port} (Mycel's default when port is 0 or not set; hypha has none)`,
  );
}
