import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "smol-toml";
import { ConfigError, parseConfig } from "../src/config/load.ts";
import {
  ADMIN,
  type ConfigInput,
  flow,
  merge,
  rabbit,
  rabbitConfig,
  RABBITMQ_URL,
  restExample,
  sse,
  throwawayTopology,
  toml,
} from "./support/config_builder.ts";

/** What `hypha check` does with the file: TOML, schema, cross-checks. */
const load = (config: ConfigInput) =>
  parseConfig(toml(config), "hypha.toml", {}).config;

describe("config builder", () => {
  test("the upstream example is a valid config with its three routes", () => {
    const loaded = load(restExample());
    assert.deepEqual(Object.keys(loaded.connector), ["sse", "api"]);
    const events = loaded.connector.sse;
    assert.ok(events.type === "sse");
    assert.equal(events.host, "127.0.0.1");
    assert.equal(events.port, 0);
    assert.deepEqual(loaded.flow.notify_room, {
      from: { connector: "api", operation: "POST /notify/:room" },
      to: { connector: "sse", operation: "send_to_room", target: "input.room" },
    });
    assert.equal(loaded.flow.notify_user.to.target, "input.user_id");
  });

  test("values round-trip through the TOML text: strings, numbers, booleans, arrays, nested tables", () => {
    const config = merge(
      restExample(
        {
          heartbeat_interval: "300ms",
          max_buffered: "4KiB",
          cors: { allowed_origins: ["https://a.example"] },
          history: { size: 5 },
          auth: { jwt_secret: "s", anonymous: true },
        },
        { max_batch: 5, auth: { tokens: ["t"] } },
      ),
      ADMIN,
      { service: { log_level: "debug", workers: 2 } },
    );
    // (smol-toml's tables have no prototype; JSON gives plain objects.)
    assert.deepEqual(JSON.parse(JSON.stringify(parse(toml(config)))), config);
    const loaded = load(config);
    assert.equal(loaded.service.log_level, "debug");
    assert.equal(loaded.service.workers, 2);
    assert.equal(loaded.service.admin?.port, 0);
    const events = loaded.connector.sse;
    assert.ok(events.type === "sse");
    assert.equal(events.heartbeat_interval, 300);
    assert.equal(events.max_buffered, 4096);
    assert.deepEqual(events.cors?.allowed_origins, ["https://a.example"]);
    assert.equal(events.history.size, 5);
    assert.equal(events.auth?.anonymous, true);
    const api = loaded.connector.api;
    assert.ok(api.type === "rest");
    assert.equal(api.max_batch, 5);
    assert.deepEqual(api.auth?.tokens, ["t"]);
  });

  test("nested tables come out as [a.b.c] headers", () => {
    const text = toml({
      connector: { sse: sse({ cors: { origins: ["*"] } }) },
    });
    assert.match(text, /^\[connector\.sse\]$/m);
    assert.match(text, /^\[connector\.sse\.cors\]\norigins = \[ "\*" \]$/m);
  });

  test("a RabbitMQ connector with a throwaway topology and the seed flows", () => {
    const loaded = load(rabbitConfig(throwawayTopology("c", "x", "q")));
    const mq = loaded.connector.rabbit;
    assert.ok(mq.type === "mq");
    assert.equal(mq.url, RABBITMQ_URL);
    assert.equal(mq.connection_name, "c");
    assert.equal(mq.reconnect_delay, 200);
    assert.deepEqual(
      [mq.exchange?.name, mq.exchange?.type, mq.exchange?.durable],
      ["x", "topic", false],
    );
    assert.deepEqual([mq.queue.name, mq.queue.durable], ["q", false]);
    assert.deepEqual(Object.keys(loaded.flow), [
      "live_feed",
      "room_updates",
      "user_notification",
    ]);
    assert.equal(loaded.flow.room_updates.from.operation, "room.event");
  });

  test("merge: tables merge key by key, arrays replace, undefined removes, inputs stay", () => {
    const base = { connector: { sse: sse({ cors: { origins: ["a", "b"] } }) } };
    const merged = merge<ConfigInput>(base, {
      connector: {
        sse: { port: 8080, cors: { origins: ["c"] }, host: undefined },
      },
    });
    assert.deepEqual(merged.connector?.sse, {
      type: "sse",
      port: 8080,
      cors: { origins: ["c"] },
    });
    assert.equal(base.connector.sse.port, 0);
    assert.deepEqual(base.connector.sse.cors?.origins, ["a", "b"]);
  });

  test("flow() keeps a filter and a transform beside from and to", () => {
    const config = merge(restExample(), {
      connector: { rabbit: rabbit() },
      flow: {
        big: flow(
          { connector: "rabbit", operation: "order.*" },
          { connector: "sse", operation: "broadcast" },
          { filter: "input.total > 100", transform: { total: "input.total" } },
        ),
      },
    });
    assert.deepEqual(load(config).flow.big, {
      from: { connector: "rabbit", operation: "order.*" },
      to: { connector: "sse", operation: "broadcast" },
      filter: "input.total > 100",
      transform: { total: "input.total" },
    });
  });

  test("a key the schema does not know does not compile, and hypha refuses it", () => {
    const config = merge(restExample(), {
      // @ts-expect-error: the schema has heartbeat_interval, not this.
      connector: { sse: { heartbeat_intervall: "1s" } },
    });
    assert.throws(
      () => load(config),
      (error) =>
        error instanceof ConfigError &&
        /connector\.sse\.heartbeat_intervall: unknown key \(did you mean "heartbeat_interval"\?\)/
          .test(error.message),
    );
  });
});
