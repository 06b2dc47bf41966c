import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import {
  rawRequest,
  rawSubscribe,
  sleep,
  subscribe,
  until,
} from "./support/clients.ts";
import {
  adminStats,
  type Hypha,
  publish,
  RUNTIME,
  startHypha,
} from "./support/hypha.ts";
import {
  ADMIN,
  merge,
  type Overrides,
  restExample,
  type SseInput,
} from "./support/config_builder.ts";

const json = (e: { data: string }) => JSON.parse(e.data);

/**
 * The guard settings each suite runs with. Production's default host
 * (0.0.0.0) turns the connection guard on, and on Deno that serves every
 * connection through Deno's serveHttpOnConnection internal; tests on
 * 127.0.0.1 have it off. Bun has no guard of hypha's own.
 */
const GUARDS = RUNTIME === "deno" ? [false, true] : [false];

for (const guard of GUARDS) deliverySuites(guard, 1);
// Two delivery threads sharing the port: the same behaviour.
deliverySuites(false, 2);

function deliverySuites(guard: boolean, workers: number) {
  const mode = (guard ? `${RUNTIME}, connection guard on` : RUNTIME) +
    (workers > 1 ? `, workers = ${workers}` : "");
  /** Runs `fn` with a hypha started from the REST example plus `sse` options. */
  async function withHypha(
    sse: Overrides<SseInput>,
    fn: (h: Hypha) => Promise<void>,
  ) {
    const hypha = await startHypha(
      merge(restExample({ connection_guard: guard, ...sse }), ADMIN, {
        service: { workers },
      }),
    );
    try {
      // A fallback to Deno.serve would test the unguarded path again.
      assert.ok(
        !hypha.lines.some((l) => /serveHttpOnConnection/.test(l)),
        hypha.lines.join("\n"),
      );
      await fn(hypha);
    } finally {
      await hypha.stop();
    }
  }

  describe(`resume with Last-Event-ID (${mode})`, () => {
    test("a reconnecting subscriber receives exactly the events it missed, in order, then live ones", async () => {
      await withHypha({}, async (h) => {
        const api = h.urls.api;
        const first = subscribe(`${h.urls.sse}?room=a&user_id=u1`);
        await first.opened;
        await publish(`${api}notify`, { n: "before" });
        const [seen] = await first.waitFor(1);
        first.close();

        const targets = [
          "notify",
          "notify/a",
          "notify/b",
          "notify/user/u1",
          "notify/user/u2",
        ];
        const expected: number[] = [];
        for (let n = 0; n < 50; n++) {
          const target = targets[n % targets.length];
          await publish(`${api}${target}`, { n });
          if (!target.endsWith("/b") && !target.endsWith("/u2")) {
            expected.push(n);
          }
        }
        const again = subscribe(`${h.urls.sse}?room=a&user_id=u1`, {
          headers: { "last-event-id": seen.lastEventId },
        });
        await again.waitFor(expected.length);
        await publish(`${api}notify/a`, { n: "live" });
        const events = await again.waitFor(expected.length + 1);
        assert.deepEqual(events.map((e) => json(e).n), [...expected, "live"]);
        again.close();
      });
    });

    test("a resume larger than max_buffered arrives whole instead of being cut as slow", async () => {
      await withHypha({ max_buffered: "64KiB" }, async (h) => {
        const first = subscribe(h.urls.sse);
        await first.opened;
        await publish(`${h.urls.api}notify`, { n: -1 });
        const [seen] = await first.waitFor(1);
        first.close();
        const pad = "p".repeat(8 * 1024);
        for (let n = 0; n < 40; n++) {
          await publish(`${h.urls.api}notify`, { n, pad });
        }
        const back = await rawSubscribe(h.urls.sse, "/events", {
          "Last-Event-ID": seen.lastEventId,
        });
        await back.waitFor(40);
        assert.deepEqual(
          back.events.map((e) => json(e).n),
          Array.from({ length: 40 }, (_, n) => n),
        );
        const stats = await adminStats(h);
        assert.equal(stats.hubs.sse.closed.slow, 0);
        back.close();
      });
    });

    test("?last_event_id= works for clients that cannot set headers", async () => {
      await withHypha({}, async (h) => {
        const probe = subscribe(h.urls.sse);
        await probe.opened;
        await publish(`${h.urls.api}notify`, { n: 1 });
        const [one] = await probe.waitFor(1);
        await publish(`${h.urls.api}notify`, { n: 2 });
        await probe.waitFor(2);
        probe.close();
        const raw = await rawSubscribe(
          h.urls.sse,
          `/events?last_event_id=${one.lastEventId}`,
        );
        await raw.waitFor(1);
        assert.deepEqual(raw.events.map(json), [{ n: 2 }]);
        raw.close();
      });
    });

    test("while a publisher keeps sending, a client whose connection keeps dropping misses nothing and gets nothing twice", async () => {
      // max_lifetime closes each stream after 0.8-1 s; the EventSource client
      // reconnects on its own with Last-Event-ID, as a browser does.
      await withHypha({ max_lifetime: "1s", retry: "50ms" }, async (h) => {
        const client = subscribe(`${h.urls.sse}?room=a`);
        await client.opened;
        const sent: number[] = [];
        const until = Date.now() + 4000;
        let n = 0;
        while (Date.now() < until) {
          const room = n % 3 === 0 ? "b" : "a";
          await publish(`${h.urls.api}notify/${room}`, { n });
          if (room === "a") sent.push(n);
          n++;
          await sleep(5);
        }
        await client.waitFor(sent.length);
        await sleep(300); // room for a duplicate to show up, if there were one
        assert.deepEqual(client.events.map((e) => json(e).n), sent);
        client.close();
        const stats = await adminStats(h);
        assert.ok(
          stats.hubs.sse.closed.lifetime >= 2,
          "the stream was really cut several times",
        );
      });
    });
  });

  describe(`gap events (${mode})`, () => {
    test("history exceeded, unknown and garbage ids get a gap event first, then live events", async () => {
      await withHypha(
        { gap_event: "resync", history: { size: 5 } },
        async (h) => {
          const probe = subscribe(h.urls.sse);
          await probe.opened;
          for (let n = 0; n < 10; n++) {
            await publish(`${h.urls.api}notify`, {
              n,
            });
          }
          const seen = await probe.waitFor(10);
          probe.close();
          let newest = seen[9].lastEventId;
          const cases: [string, string][] = [
            [seen[0].lastEventId, "expired"],
            [String(BigInt(newest) + 10n ** 12n), "unknown"],
            ["not-a-number", "malformed"],
            ["x".repeat(5000), "malformed"],
          ];
          for (const [id, reason] of cases) {
            const client = await rawSubscribe(h.urls.sse, "/events", {
              "Last-Event-ID": id,
            });
            await client.waitFor(1);
            assert.equal(client.events[0].event, "resync");
            assert.deepEqual(JSON.parse(client.events[0].data), {
              reason,
              last_event_id: id.slice(0, 64),
              resume_from: newest,
            });
            assert.equal(
              client.events[0].id,
              newest,
              "the gap moves the client's id to where the stream continues",
            );
            await publish(`${h.urls.api}notify`, { n: "live" });
            await client.waitFor(2);
            assert.deepEqual(json(client.events[1]), { n: "live" });
            newest = client.events[1].id!;
            client.close();
          }
        },
      );
    });

    test("an id from before a restart gets a gap, and ids keep increasing across the restart", async () => {
      let oldId = "";
      await withHypha({}, async (h) => {
        const probe = subscribe(h.urls.sse);
        await probe.opened;
        await publish(`${h.urls.api}notify`, { n: "old" });
        oldId = (await probe.waitFor(1))[0].lastEventId;
        probe.close();
      });
      await withHypha({}, async (h) => {
        const client = await rawSubscribe(h.urls.sse, "/events", {
          "Last-Event-ID": oldId,
        });
        await client.waitFor(1);
        assert.equal(client.events[0].event, "gap");
        assert.equal(JSON.parse(client.events[0].data).reason, "restart");
        await publish(`${h.urls.api}notify`, { n: "new" });
        await client.waitFor(2);
        assert.ok(BigInt(client.events[1].id!) > BigInt(oldId));
        client.close();
      });
    });
  });

  describe(`slow clients and limits (${mode})`, () => {
    test("a subscriber that never reads is disconnected; 100 others get every event; memory stays bounded", async () => {
      await withHypha(
        { max_buffered: "256KiB", history: { max_bytes: "8MiB" } },
        async (h) => {
          const rssMiB = () =>
            Number(
              /VmRSS:\s+(\d+)/.exec(
                readFileSync(`/proc/${h.process.pid}/status`, "utf8"),
              )![1],
            ) / 1024;
          const stalled = await rawRequest(
            h.urls.sse,
            "GET /events HTTP/1.1\r\nHost: x\r\n\r\n",
            { read: false },
          );
          const readers = await Promise.all(
            Array.from(
              { length: 100 },
              () => rawSubscribe(h.urls.sse, "/events"),
            ),
          );
          // Connected is not subscribed: under load the server may not have
          // read a request yet, and a stream opened after event 0 misses it.
          await until(
            () => readers.every((r) => r.retries.length > 0),
            "the readers' streams to open",
          );
          const blob = "x".repeat(64 * 1024);
          let n = 0;
          let dropped = false;
          let peak = 0;
          // A steady stream of 64 KiB events until the stalled one is cut, then some more.
          for (let after = 0; after < 20 && n < 2000; n++) {
            await publish(`${h.urls.api}notify`, { n, blob });
            // With delivery threads a publish no longer waits for the
            // writes: unpaced, 100 readers in this one process fall 4 events
            // (256 KiB) behind and are cut too, as they should be.
            if (workers > 1) {
              await Promise.all(readers.map((r) => r.waitFor(n + 1, 60_000)));
            }
            if (n % 10 === 9) {
              const stats = await adminStats(h);
              dropped ||= stats.hubs.sse.closed.slow === 1;
              peak = Math.max(peak, rssMiB());
            }
            if (dropped) after++;
          }
          assert.ok(
            dropped,
            `the stalled subscriber was disconnected: ${
              JSON.stringify((await adminStats(h)).hubs.sse)
            } after ${n} events`,
          );
          await Promise.all(readers.map((r) => r.waitFor(n, 60_000)));
          for (const r of readers) {
            assert.deepEqual(
              r.events.map((e) => json(e).n),
              Array.from({ length: n }, (_, i) => i),
            );
            r.close();
          }
          // 8 MiB of history + 1 MiB for the stalled client + runtime: well under 256 MiB.
          assert.ok(peak < 256, `peak RSS ${peak.toFixed(0)} MiB`);
          stalled.socket.resume();
          await stalled.closed;
        },
      );
    });

    test("max_connections + 1 gets 503 with Retry-After; the per-IP limit gets 429; retry is sent at connect", async () => {
      await withHypha({ max_connections: 3, retry: "2500ms" }, async (h) => {
        const open = await Promise.all(
          [1, 2, 3].map(() => rawSubscribe(h.urls.sse, "/events")),
        );
        await until(
          () => open.every((c) => c.retries.length > 0),
          "the streams to open",
        );
        for (const c of open) assert.deepEqual(c.retries, [2500]);
        const over = await fetch(h.urls.sse);
        assert.equal(over.status, 503);
        assert.equal(over.headers.get("retry-after"), "5");
        assert.equal(await over.text(), "too many connections\n");
        open[0].close();
        // The server notices a vanished client at its next write.
        await publish(`${h.urls.api}notify`, { n: 1 });
        let status = 0;
        for (let i = 0; i < 100 && status !== 200; i++) {
          const response = await fetch(h.urls.sse);
          status = response.status;
          await response.body?.cancel();
          if (status !== 200) await sleep(50);
        }
        assert.equal(status, 200, "a freed slot can be used again");
        for (const c of open) c.close();
      });
      await withHypha({ max_connections_per_ip: 2 }, async (h) => {
        const open = await Promise.all(
          [1, 2].map(() => rawSubscribe(h.urls.sse, "/events")),
        );
        await until(
          () => open.every((c) => c.retries.length > 0),
          "the streams to open",
        );
        const over = await fetch(h.urls.sse);
        assert.equal(over.status, 429);
        assert.match(
          await over.text(),
          /too many connections from this address/,
        );
        for (const c of open) c.close();
      });
    });

    test("2,000 subscribers reconnecting at once with Last-Event-ID all resume with nothing lost or doubled", async () => {
      // On Deno, connections past max_pending_connections (default 1024) that
      // have not sent their request yet are refused (a browser would retry;
      // these raw clients do not): 2,000 connecting at once must all get in.
      await withHypha({ max_pending_connections: 4096 }, async (h) => {
        const probe = subscribe(h.urls.sse);
        await probe.opened;
        await publish(`${h.urls.api}notify`, { n: -1 });
        const [mark] = await probe.waitFor(1);
        probe.close();
        for (let n = 0; n < 20; n++) {
          await publish(`${h.urls.api}notify`, { n });
        }
        const clients = await Promise.all(
          Array.from(
            { length: 2000 },
            () =>
              rawSubscribe(h.urls.sse, "/events", {
                "Last-Event-ID": mark.lastEventId,
              }),
          ),
        );
        for (let n = 20; n < 25; n++) {
          await publish(`${h.urls.api}notify`, { n });
        }
        await Promise.all(clients.map((c) => c.waitFor(25, 60_000)));
        if (workers > 1) {
          // The kernel spread the connections: every thread served some.
          const { threads } = (await adminStats(h)).hubs.sse;
          assert.equal(threads.length, workers);
          assert.ok(threads.every((n: number) => n > 0), `${threads}`);
          assert.equal(threads.reduce((a: number, b: number) => a + b), 2000);
        }
        const expected = Array.from({ length: 25 }, (_, i) => i);
        for (const c of clients) {
          assert.deepEqual(c.events.map((e) => json(e).n), expected);
          c.close();
        }
      });
    });

    test("SIGTERM with 1,000 subscribers: each gets a jittered retry, streams close, exit 0 before the hard-exit timer", async () => {
      const hypha = await startHypha(
        merge(restExample({ connection_guard: guard }), {
          service: { shutdown_spread: "3s", workers },
        }),
      );
      const clients = await Promise.all(
        Array.from(
          { length: 1000 },
          () => rawSubscribe(hypha.urls.sse, "/events"),
        ),
      );
      await until(
        () => clients.every((c) => c.retries.length === 1),
        "1,000 streams to open",
      );
      assert.equal(await hypha.stop("SIGTERM"), 0);
      await Promise.all(clients.map((c) => c.closed));
      const retries = clients.map((c) => c.retries.at(-1)!);
      assert.ok(
        clients.every((c) => c.retries.length === 2),
        "a retry at connect and one at shutdown",
      );
      assert.ok(retries.every((ms) => ms >= 0 && ms < 3000));
      assert.ok(
        new Set(retries).size > 100,
        "reconnects are spread, not synchronized",
      );
      assert.ok(
        !hypha.lines.some((l) => /took too long/.test(l)),
        "stopped cleanly, not by the hard-exit timer",
      );
      assert.ok(hypha.lines.some((l) => /INFO\s+stopped/.test(l)));
    });
  });
}
