/**
 * Resuming clients that never read cannot exhaust memory: replay shares
 * the history's buffers (no copy per client), and a resuming client whose
 * queue stays full for stall_timeout is cut without waiting for a heartbeat.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { rawRequest, rawSubscribe, until } from "./support/clients.ts";
import { publish, RUNTIME, startHypha } from "./support/hypha.ts";
import { restExample } from "./support/config_builder.ts";

const CLIENTS = 100;
const EVENTS = 400;

describe(`replay to clients that never read (${RUNTIME})`, () => {
  test(`${CLIENTS} non-reading resumers of ${EVENTS} x 64 KiB events: memory stays bounded, they are cut, others are served`, async () => {
    const hypha = await startHypha(restExample({
      max_buffered: "1MiB",
      stall_timeout: "1s",
      heartbeat_interval: "1h",
      history: { size: EVENTS + 10, max_bytes: "64MiB" },
    }));
    try {
      const rssMiB = () =>
        Number(
          /VmRSS:\s+(\d+)/.exec(
            readFileSync(`/proc/${hypha.process.pid}/status`, "utf8"),
          )![1],
        ) / 1024;
      const api = hypha.urls.api;
      const first = await rawSubscribe(hypha.urls.sse, "/events");
      const blob = "x".repeat(64 * 1024);
      await until(() => first.retries.length > 0, "the stream to open");
      await publish(`${api}notify`, { n: 0 });
      await first.waitFor(1);
      const firstId = first.events[0].id!;
      first.close();
      for (let n = 1; n <= EVENTS; n++) {
        await publish(`${api}notify`, { n, blob });
      }
      const before = rssMiB();
      const resumers = await Promise.all(
        Array.from({ length: CLIENTS }, () =>
          rawRequest(
            hypha.urls.sse,
            `GET /events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ${firstId}\r\n\r\n`,
            { read: false },
          )),
      );
      const health = hypha.urls.sse.replace("/events", "/healthz");
      let peak = before;
      for (;;) {
        peak = Math.max(peak, rssMiB());
        const text = await (await fetch(health)).text();
        if (text === "ok 0 connections\n") break;
        await new Promise((r) => setTimeout(r, 50));
      }
      // Deno queues the history's own buffers: no copy per client. Bun copies
      // what it takes from the stream, so there the bound is max_buffered
      // per client (the old replay pinned about 8 MiB per client on Bun).
      const bound = RUNTIME === "deno" ? 50 : CLIENTS * 1.6;
      assert.ok(
        peak - before < bound,
        `RSS grew by ${(peak - before).toFixed(0)} MiB (bound ${bound})`,
      );
      const after = await rawSubscribe(hypha.urls.sse, "/events");
      await until(() => after.retries.length > 0, "the stream to open");
      await publish(`${api}notify`, { n: "live" });
      await after.waitFor(1);
      assert.equal(JSON.parse(after.events[0].data).n, "live");
      after.close();
      for (const r of resumers) r.close();
    } finally {
      await hypha.stop();
    }
  });
});
