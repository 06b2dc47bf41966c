import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readFile } from "node:fs/promises";
import { parseConfig } from "../src/config/load.ts";
import { errorOf, SSE } from "./support/config_errors.ts";
import { parseDuration, parseSize } from "../src/config/units.ts";

describe("durations and sizes", () => {
  test("parseDuration reads ms, s, m, h and combinations", () => {
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("30s"), 30_000);
    assert.equal(parseDuration("2m"), 120_000);
    assert.equal(parseDuration("1h30m"), 5_400_000);
    assert.equal(parseDuration("1.5s"), 1500);
    for (const bad of ["30", "thirty", "s", "-1s", "1d", " 1s"]) {
      assert.equal(parseDuration(bad), undefined, bad);
    }
  });

  test("parseSize reads integers and KiB/MiB/GiB strings", () => {
    assert.equal(parseSize(1024), 1024);
    assert.equal(parseSize("256KiB"), 262_144);
    assert.equal(parseSize("1MiB"), 1_048_576);
    assert.equal(parseSize("1MB"), 1_000_000);
    assert.equal(parseSize("64 MiB"), 67_108_864);
    for (const bad of [-1, 1.5, "1 TiB", "lots", ""]) {
      assert.equal(parseSize(bad), undefined, String(bad));
    }
  });
});

describe("config", () => {
  test("defaults of the seed are applied", () => {
    const { config, warnings } = parseConfig(SSE, "hypha.toml", {});
    const sse = config.connector.sse;
    assert.equal(sse.type, "sse");
    if (sse.type !== "sse") return;
    assert.equal(sse.host, "0.0.0.0");
    assert.equal(sse.path, "/events");
    assert.equal(sse.heartbeat_interval, 30_000);
    assert.equal(sse.max_buffered, 1_048_576);
    assert.deepEqual(warnings, [
      "no flows are configured: subscribers can connect but nothing will be sent",
    ]);
  });

  test("cors.origins is an alias of cors.allowed_origins, merged in the schema", () => {
    const { config } = parseConfig(
      `${SSE}[connector.sse.cors]\norigins = ["https://a.example"]\nallowed_origins = ["https://b.example"]\n`,
      "x",
      {},
    );
    const sse = config.connector.sse;
    assert.ok(sse.type === "sse");
    assert.deepEqual(sse.cors?.allowed_origins, [
      "https://b.example",
      "https://a.example",
    ]);
  });

  test("${VAR} and ${VAR:-default} are interpolated in strings", () => {
    const text =
      `[connector.sse]\ntype = "sse"\nport = "\${PORT:-3002}"\npath = "\${SSE_PATH}"\n`;
    const { config } = parseConfig(text, "x", { SSE_PATH: "/stream" });
    assert.equal(config.connector.sse.port, 3002);
    assert.ok(
      config.connector.sse.type === "sse" &&
        config.connector.sse.path === "/stream",
    );
    assert.equal(
      errorOf(text),
      'hypha.toml: connector.sse.path: environment variable SSE_PATH is not set (write "${SSE_PATH:-default}" to give a default)',
    );
  });

  test("a bad duration names the key path, what was found and what was expected", () => {
    assert.equal(
      errorOf(`${SSE}heartbeat_interval = "thirty"\n`),
      'hypha.toml: connector.sse.heartbeat_interval: expected a duration like "30s", "500ms", "2m" or "1h", got "thirty"',
    );
  });

  test("an unknown key is an error with a suggestion", () => {
    assert.equal(
      errorOf(`${SSE}heartbeat_intervall = "30s"\n`),
      'hypha.toml: connector.sse.heartbeat_intervall: unknown key (did you mean "heartbeat_interval"?)',
    );
  });

  test("a wrong type and an unknown connector type are errors", () => {
    assert.equal(
      errorOf(`[connector.sse]\ntype = "sse"\nport = true\n`),
      "hypha.toml: connector.sse.port: expected number, got true",
    );
    assert.equal(
      errorOf(`${SSE}[connector.x]\ntype = "kafka"\n`),
      'hypha.toml: connector.x.type: expected "sse", "rest" or "mq", got "kafka"',
    );
  });

  test("invalid TOML names the line and column", () => {
    assert.match(
      errorOf(`[connector.sse\ntype = "sse"\n`),
      /^hypha\.toml:1:\d+: invalid TOML: /,
    );
  });

  test("a flow naming a missing connector or operation is refused at start", () => {
    const flow = (from: string, op: string, extra = "") =>
      `${SSE}[connector.api]\ntype = "rest"\nport = 8080\n[flow.f.from]\nconnector = "${from}"\noperation = "POST /x"\n[flow.f.to]\nconnector = "sse"\noperation = "${op}"\n${extra}`;
    assert.equal(
      errorOf(flow("apj", "broadcast")),
      'hypha.toml: flow.f.from.connector: no connector named "apj" (did you mean "api"?)',
    );
    assert.equal(
      errorOf(flow("api", "send_to_all")),
      'hypha.toml: flow.f.to.operation: expected "broadcast" or "send_to_room" or "send_to_user" or "publish", got "send_to_all"',
    );
    assert.equal(
      errorOf(flow("api", "send_to_room")),
      'hypha.toml: flow.f.to.target: send_to_room needs a target like "input.room"',
    );
    assert.equal(
      errorOf(flow("api", "send_to_user", 'target = "input.user..id"\n')),
      'hypha.toml: flow.f.to.target: expected an expression like "input.user_id" or "meta.headers.user", got "input.user..id"',
    );
    assert.equal(
      errorOf(flow("sse", "broadcast")),
      'hypha.toml: flow.f.from.operation: an sse connector\'s operations are connected, disconnected, room_occupied, room_vacated (or none, for all); got "POST /x"',
    );
  });

  test("a REST flow operation must be a route", () => {
    const text =
      `${SSE}[connector.api]\ntype = "rest"\nport = 8080\n[flow.f.from]\nconnector = "api"\noperation = "notify"\n[flow.f.to]\nconnector = "sse"\noperation = "broadcast"\n`;
    assert.equal(
      errorOf(text),
      'hypha.toml: flow.f.from.operation: expected a route like "POST /notify/:room", got "notify"',
    );
  });

  test("two listeners on one port are refused", () => {
    assert.equal(
      errorOf(
        `${SSE}[connector.api]\ntype = "rest"\nport = 3002\nhost = "0.0.0.0"\ninsecure = true\n`,
      ),
      "hypha.toml: connector.api.port: port 3002 on 0.0.0.0 is already used by connector.sse",
    );
  });

  test("the shipped configs are valid", async () => {
    for (
      const file of [
        "config/hypha.toml",
        "config/examples/rabbitmq.toml",
        "config/examples/rabbitmq-scale-out.toml",
      ]
    ) {
      const text = await readFile(
        new URL(`../${file}`, import.meta.url).pathname,
        "utf8",
      );
      assert.doesNotThrow(() => parseConfig(text, file, {}), file);
    }
  });
});
