/** Whole configs started in process: several connectors, broker give-up. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { rateLimited } from "../src/core/rate_limited.ts";
import { subscribe, until } from "./support/clients.ts";
import { inProcess, post } from "./support/in_process.ts";
import { flow, rabbit } from "./support/config_builder.ts";

describe("app in process", () => {
  test("two SSE connectors have their own hubs: a flow reaches only its connector's clients", async () => {
    // In process: nothing is bound, so hosts stay default.
    const app = await inProcess({
      connector: {
        public: { type: "sse", port: 0 },
        staff: { type: "sse", port: 0, path: "/staff" },
        api: { type: "rest", port: 0 },
      },
      flow: {
        news: flow(
          { connector: "api", operation: "POST /news" },
          { connector: "public", operation: "broadcast" },
        ),
        alerts: flow(
          { connector: "api", operation: "POST /alerts" },
          { connector: "staff", operation: "broadcast" },
        ),
      },
    });
    try {
      const reader = subscribe("http://public.test/events", {
        fetch: app.fetchOf("public"),
      });
      const staff = subscribe("http://staff.test/staff", {
        fetch: app.fetchOf("staff"),
      });
      await Promise.all([reader.opened, staff.opened]);
      const api = app.call("api");
      assert.equal((await post(api, "/news", { n: 1 })).body.delivered, 1);
      assert.equal((await post(api, "/alerts", { n: 2 })).body.delivered, 1);
      assert.deepEqual(
        (await reader.waitFor(1)).map((e) => JSON.parse(e.data).n),
        [1],
      );
      assert.deepEqual(
        (await staff.waitFor(1)).map((e) => JSON.parse(e.data).n),
        [2],
      );
      // Each connector answers its own path only.
      assert.equal((await app.call("public")("/staff")).status, 404);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(reader.events.length, 1);
      assert.equal(staff.events.length, 1);
      reader.close();
      staff.close();
    } finally {
      await app.stop();
    }
  });

  test("max_reconnects: after that many failed attempts the source gives up with an ERROR, and SSE keeps serving", async () => {
    const app = await inProcess({
      connector: {
        sse: { type: "sse", port: 0 },
        rabbit: rabbit({
          url: "amqp://guest:guest@127.0.0.1:1/",
          reconnect_delay: "10ms",
          max_reconnects: 2,
        }),
      },
      flow: {
        f: flow(
          { connector: "rabbit" },
          { connector: "sse", operation: "broadcast" },
        ),
      },
    });
    try {
      await until(
        () =>
          app.lines.some((l) => /ERROR\s+cannot connect; giving up/.test(l)),
        "the give-up line",
      );
      const giveUp = app.lines.find((l) => /giving up/.test(l))!;
      assert.match(giveUp, /attempts=3/);
      assert.equal(
        app.lines.filter((l) => /WARN\s+retrying/.test(l)).length,
        2,
        "two retries after the first attempt",
      );
      const health = await app.call("sse")("/healthz");
      assert.equal(health.status, 200);
    } finally {
      await app.stop();
    }
  });
});

describe("rate-limited logs", () => {
  test("one line per key and interval; the window's end says how many were suppressed", () => {
    let now = 0;
    const limited = rateLimited(1000, () => now);
    const lines: string[] = [];
    const log = (key: string) =>
      limited(key, (suppressed) => lines.push(`${key} ${suppressed}`));
    for (let i = 0; i < 5; i++) log("a");
    log("b");
    now = 999;
    log("a");
    now = 1000;
    log("a");
    // The window of "a" ended: its count, then the new window's first line.
    assert.deepEqual(lines, ["a 0", "b 0", "a 5", "a 0"]);
  });
});
