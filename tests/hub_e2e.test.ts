import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  rawRequest,
  rawSubscribe,
  sleep,
  subscribe,
} from "./support/clients.ts";
import { type Hypha, publish, RUNTIME, startHypha } from "./support/hypha.ts";
import { merge, restExample, ROOMS_FLOW } from "./support/config_builder.ts";

// workers = 2: subscribers on two delivery threads sharing the port.
for (const workers of [1, 2]) {
  describe(`hub end to end (${RUNTIME}, workers = ${workers})`, () => {
    let hypha: Hypha;
    let events: string;
    let api: string;
    // Delivery threads deliver after the answer: the owning thread counts none.
    const counted = (n: number) => workers === 1 ? n : 0;

    before(async () => {
      hypha = await startHypha(
        merge(
          restExample(
            {
              heartbeat_interval: "300ms",
              cors: { allowed_origins: ["https://app.example.com"] },
            },
            { max_body: "1KiB" },
          ),
          {
            service: { workers },
            flow: {
              by_body: merge(ROOMS_FLOW, { to: { event: "input.kind" } }),
            },
          },
        ),
      );
      events = `${hypha.urls.sse}`;
      api = hypha.urls.api.replace(/\/$/, "");
    });
    after(async () => {
      await hypha.stop();
    });

    test("broadcast, room, rooms and user events reach only their subscribers", async () => {
      const all = subscribe(events);
      const orders = subscribe(`${events}?room=orders`);
      const both = subscribe(`${events}?rooms=orders,%20inventory,,`);
      const user42 = subscribe(`${events}?user_id=42`);
      const user43 = subscribe(`${events}?user_id=43`);
      const clients = [all, orders, both, user42, user43];
      await Promise.all(clients.map((c) => c.opened));

      assert.deepEqual(await publish(`${api}/notify/orders`, { n: 1 }), {
        status: 202,
        body: { delivered: counted(2) },
      });
      assert.deepEqual(await publish(`${api}/notify/inventory`, { n: 2 }), {
        status: 202,
        body: { delivered: counted(1) },
      });
      assert.deepEqual(await publish(`${api}/notify/user/42`, { n: 3 }), {
        status: 202,
        body: { delivered: counted(1) },
      });
      assert.deepEqual(await publish(`${api}/notify`, { n: 4 }), {
        status: 202,
        body: { delivered: counted(5) },
      });

      const data = async (c: typeof all, count: number) =>
        (await c.waitFor(count)).map((e) => JSON.parse(e.data).n);
      assert.deepEqual(await data(all, 1), [4]);
      assert.deepEqual(await data(orders, 2), [1, 4]);
      assert.deepEqual(await data(both, 3), [1, 2, 4]);
      assert.deepEqual(await data(user42, 2), [3, 4]);
      assert.deepEqual(await data(user43, 1), [4]);
      // Path params fill input; event type defaults to message; ids increase.
      assert.deepEqual(JSON.parse(orders.events[0].data), {
        n: 1,
        room: "orders",
      });
      assert.equal(orders.events[0].type, "message");
      assert.ok(
        BigInt(orders.events[1].lastEventId) >
          BigInt(orders.events[0].lastEventId),
      );
      for (const c of clients) c.close();
    });

    test("the stream sends retry at once, then heartbeat comments", async () => {
      const raw = await rawRequest(
        events,
        `GET /events HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      const head = await raw.waitFor(/\r\n\r\n[\s\S]*retry: \d+\n\n/);
      assert.match(head, /^HTTP\/1\.1 200/);
      assert.match(head, /content-type: text\/event-stream/i);
      assert.match(head, /cache-control: no-cache/i);
      assert.match(head, /x-accel-buffering: no/i);
      assert.match(head, /x-content-type-options: nosniff/i);
      assert.doesNotMatch(head, /content-encoding/i);
      const opened = Date.now();
      await raw.waitFor(/: keepalive\n\n[\s\S]*: keepalive\n\n/);
      // One hub-wide timer: the first may come soon after opening, then one
      // per 300 ms interval, never more.
      const count = raw.text().split(": keepalive\n\n").length - 1;
      const intervals = Math.floor((Date.now() - opened) / 300);
      assert.ok(
        count <= intervals + 1,
        `${count} keepalives in ${intervals} intervals`,
      );
      raw.close();
    });

    test("events are never compressed, even when the client accepts gzip", async () => {
      const raw = await rawRequest(
        events,
        `GET /events HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, br\r\n\r\n`,
      );
      const head = await raw.waitFor(/retry: \d+\n\n/);
      assert.doesNotMatch(head, /content-encoding/i);
      raw.close();
    });
  });
}

describe(`quiet hub (${RUNTIME})`, () => {
  test("a subscriber that receives nothing for 11 s (heartbeat 30 s, Bun closes idle responses after 10 s) is still connected", async () => {
    const hypha = await startHypha(restExample({ heartbeat_interval: "30s" }));
    try {
      const raw = await rawRequest(
        hypha.urls.sse,
        `GET /events?user_id=7 HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      await raw.waitFor(/retry: \d+\n\n/);
      let closed = false;
      raw.closed.then(() => closed = true);
      await sleep(11_000);
      assert.equal(closed, false, "the server closed an idle stream");
      const result = await publish(`${hypha.urls.api}notify/user/7`, {
        late: true,
      });
      assert.equal(result.body.delivered, 1);
      await raw.waitFor(/data: \{"late":true,"user_id":"7"\}\n\n/);
      raw.close();
    } finally {
      assert.equal(await hypha.stop(), 0);
    }
  });
});

describe(`keepalives only for silent connections (${RUNTIME})`, () => {
  test("a subscriber receiving events gets no keepalive, an idle one gets them every heartbeat_interval", async () => {
    const hypha = await startHypha(restExample({ heartbeat_interval: "1s" }));
    try {
      const busy = await rawSubscribe(hypha.urls.sse, "/events?room=busy");
      const idle = await rawSubscribe(hypha.urls.sse, "/events?room=idle");
      const idleSince = Date.now();
      const notify = `${hypha.urls.api}notify/busy`;
      await publish(notify, { n: 0 });
      await busy.waitFor(1);
      const before = busy.comments.length;
      // 3 s of events every 100 ms: three heartbeat intervals.
      for (let n = 1; n <= 30; n++) {
        await publish(notify, { n });
        await sleep(100);
      }
      await busy.waitFor(31);
      // Sent to every connection each interval, busy would have had ~3.
      assert.ok(
        busy.comments.length - before <= 1,
        `busy got ${busy.comments.length - before} keepalives`,
      );
      // One keepalive per interval, not more: a timer firing too often (a
      // per-client timer, an overflow) sends many. Late timers on a busy
      // machine send fewer, so the upper bound is safe.
      const keepalives = idle.comments.filter((c) =>
        c.trim() === "keepalive"
      ).length;
      const intervals = Math.floor((Date.now() - idleSince) / 1000);
      assert.ok(keepalives >= 2, `idle got ${JSON.stringify(idle.comments)}`);
      assert.ok(
        keepalives <= intervals + 1,
        `idle got ${keepalives} keepalives in ${intervals} intervals`,
      );
      busy.close();
      idle.close();
    } finally {
      assert.equal(await hypha.stop(), 0);
    }
  });
});
