import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "../src/core/log.ts";
import { createAccepting } from "../src/ops/accepting.ts";
import { checkReadiness } from "../src/ops/readiness.ts";
import type { Source, SourceStats } from "../src/sources/source.ts";

const source = (
  name: string,
  stats: Pick<SourceStats, "connected" | "consuming" | "held">,
): Source => ({
  name,
  start: () => Promise.resolve(),
  stop: () => Promise.resolve(),
  stats: () => ({
    received: 0,
    delivered: 0,
    filtered: 0,
    rejected: {},
    ...stats,
  }),
});

describe("createLogger json", () => {
  test("one object per line: time, level, msg first, then the fields; undefined fields left out", () => {
    const lines: string[] = [];
    const log = createLogger((l) => lines.push(l), "info", "json");
    log.debug("hidden");
    log.warn("retrying", { connector: "rabbit", attempt: 2, gone: undefined });
    assert.equal(lines.length, 1);
    const entry = JSON.parse(lines[0]);
    assert.deepEqual(Object.keys(entry), [
      "time",
      "level",
      "msg",
      "connector",
      "attempt",
    ]);
    assert.equal(entry.level, "warn");
    assert.equal(entry.msg, "retrying");
    assert.equal(entry.attempt, 2);
  });

  test("a field named like time, level or msg cannot replace them", () => {
    const lines: string[] = [];
    createLogger((l) => lines.push(l), "info", "json")
      .info("real", { msg: "fake", level: "error" });
    const entry = JSON.parse(lines[0]);
    assert.equal(entry.msg, "real");
    assert.equal(entry.level, "info");
  });
});

describe("checkReadiness", () => {
  const parts = {
    listeners: ["sse", "service.admin"],
    bound: new Set(["sse", "service.admin"]),
    notAccepting: new Map<string, string>(),
    sources: [source("api", {}), source("rabbit", { connected: true })],
    clusters: new Map<string, string | undefined>([["feed", undefined]]),
    stopping: () => false,
  };

  test("ready when every listener is bound and every broker source connected", () => {
    assert.deepEqual(checkReadiness(parts), { ready: true });
  });

  test("names each failing part", () => {
    assert.deepEqual(
      checkReadiness({
        ...parts,
        bound: new Set(["service.admin"]),
        notAccepting: new Map([["service.admin", "Too many open files"]]),
        sources: [
          source("rabbit", { connected: false }),
          source("queue", { connected: true, consuming: false }),
          source("held", { connected: false, held: true }),
        ],
        clusters: new Map([
          ["feed", undefined],
          ["orders", "cluster log not attached"],
          ["news", "the broker blocks publishing (low on memory)"],
        ]),
        stopping: () => true,
      }),
      {
        ready: false,
        failing: [
          "hypha is shutting down",
          "sse: not listening",
          "service.admin: cannot accept connections (Too many open files)",
          "rabbit: not connected to the broker",
          "queue: connected but not consuming",
          "orders: cluster log not attached",
          "news: the broker blocks publishing (low on memory)",
        ],
      },
    );
  });
});

describe("createAccepting", () => {
  test("a flood of failed accepts logs one line a second per listener, the recovery one more, and the counts add up", () => {
    const lines: string[] = [];
    let at = 0;
    const accepting = createAccepting(
      createLogger((line) => lines.push(line.replace(/^\S+ /, ""))),
      () => at,
    );
    const emfile = new Error("Too many open files (os error 24)");
    for (let i = 0; i < 5; i++) accepting.failed("sse", "0.0.0.0:80", emfile);
    accepting.failed("api", "127.0.0.1:81", emfile);
    assert.deepEqual(
      [...accepting.failing],
      [["sse", emfile.message], ["api", emfile.message]],
    );
    at = 1_000;
    accepting.failed("sse", "0.0.0.0:80", emfile);
    accepting.failed("sse", "0.0.0.0:80", emfile);
    accepting.recovered("sse", "0.0.0.0:80");
    accepting.recovered("sse", "0.0.0.0:80");
    assert.deepEqual([...accepting.failing.keys()], ["api"]);
    const line = (name: string, address: string) =>
      `ERROR cannot accept connections; retrying connector=${name} address=${address} reason="Too many open files (os error 24)"`;
    assert.deepEqual(lines, [
      line("sse", "0.0.0.0:80"),
      line("api", "127.0.0.1:81"),
      `${line("sse", "0.0.0.0:80")} more=4`,
      "INFO  accepting connections again connector=sse address=0.0.0.0:80 more=1",
    ]);
  });
});
