import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseConfig } from "../src/config/load.ts";
import { parseDuration } from "../src/config/units.ts";
import { errorOf, SSE } from "./support/config_errors.ts";

describe("Go duration forms", () => {
  test("parseDuration reads the forms Go's time.ParseDuration reads", () => {
    assert.equal(parseDuration("1m30s"), 90_000);
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("1h2m3.5s"), 3_723_500);
    assert.equal(parseDuration("2h45m"), 9_900_000);
    assert.equal(parseDuration(".5s"), 500);
    assert.equal(parseDuration("1500us"), 2);
    assert.equal(parseDuration("1500µs"), 2);
    assert.equal(parseDuration("0"), 0);
    assert.equal(parseDuration("0s"), 0);
  });

  test("a tiny non-zero duration never rounds down to 0 (off)", () => {
    assert.equal(parseDuration("1ns"), 1);
  });

  test("signs, days and unitless numbers other than 0 are refused", () => {
    for (const bad of ["-1s", "+1s", "1d", "30", "1.s5", "s", "1h 2m"]) {
      assert.equal(parseDuration(bad), undefined, bad);
    }
  });

  test('heartbeat_interval = 0 and "0s" both mean off (0 ms)', () => {
    for (const value of ["0", '"0s"', '"0"']) {
      const { config } = parseConfig(
        `${SSE}heartbeat_interval = ${value}\n`,
        "hypha.toml",
        {},
      );
      const sse = config.connector.sse;
      assert.equal(sse.type === "sse" && sse.heartbeat_interval, 0, value);
    }
  });

  test("a unitless non-zero number is refused with the expected forms", () => {
    assert.match(
      errorOf(`${SSE}heartbeat_interval = 30\n`),
      /connector\.sse\.heartbeat_interval: expected a duration like "30s"/,
    );
  });

  test("Go forms are accepted wherever a duration is", () => {
    const { config } = parseConfig(
      `${SSE}retry = "1m30s"\n[connector.sse.history]\nttl = "1h2m3.5s"\n`,
      "hypha.toml",
      {},
    );
    const sse = config.connector.sse;
    assert.ok(sse.type === "sse");
    assert.equal(sse.retry, 90_000);
    assert.equal(sse.history.ttl, 3_723_500);
  });
});
