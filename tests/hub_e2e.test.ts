import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { rawRequest, sleep, subscribe } from "./support/clients.ts";
import { restExample } from "./support/configs.ts";
import { type Hypha, publish, RUNTIME, startHypha } from "./support/hypha.ts";

describe(`hub end to end (${RUNTIME})`, () => {
  let hypha: Hypha;
  let events: string;
  let api: string;

  before(async () => {
    hypha = await startHypha(
      restExample(
        `
heartbeat_interval = "300ms"
[connector.sse.cors]
allowed_origins = ["https://app.example.com"]
`,
        `max_body = "1KiB"`,
      ) + `
[flow.by_body.from]
connector = "api"
operation = "POST /rooms"
[flow.by_body.to]
connector = "sse"
operation = "send_to_room"
target = "input.room"
event = "input.kind"
`,
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
      body: { delivered: 2 },
    });
    assert.deepEqual(await publish(`${api}/notify/inventory`, { n: 2 }), {
      status: 202,
      body: { delivered: 1 },
    });
    assert.deepEqual(await publish(`${api}/notify/user/42`, { n: 3 }), {
      status: 202,
      body: { delivered: 1 },
    });
    assert.deepEqual(await publish(`${api}/notify`, { n: 4 }), {
      status: 202,
      body: { delivered: 5 },
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

  test("a numeric target renders as an integer and the event type can come from the body", async () => {
    const room = subscribe(`${events}?room=42`, { types: ["order.created"] });
    await room.opened;
    assert.deepEqual(
      await publish(`${api}/rooms`, { room: 42.0, kind: "order.created" }),
      {
        status: 202,
        body: { delivered: 1 },
      },
    );
    const [event] = await room.waitFor(1);
    assert.equal(event.type, "order.created");
    assert.deepEqual(JSON.parse(event.data), {
      room: 42,
      kind: "order.created",
    });
    room.close();
  });

  test("a target list sends one event to several rooms, once per connection", async () => {
    const a = subscribe(`${events}?room=a`);
    const ab = subscribe(`${events}?rooms=a,b`);
    const c = subscribe(`${events}?room=c`);
    await Promise.all([a.opened, ab.opened, c.opened]);
    assert.deepEqual(
      await publish(`${api}/rooms`, { room: ["a", "b"], n: 1 }),
      {
        status: 202,
        body: { delivered: 2 },
      },
    );
    assert.deepEqual(await publish(`${api}/rooms`, { room: ["c"], n: 2 }), {
      status: 202,
      body: { delivered: 1 },
    });
    assert.deepEqual((await ab.waitFor(1)).map((e) => JSON.parse(e.data).n), [
      1,
    ]);
    assert.deepEqual((await a.waitFor(1)).map((e) => JSON.parse(e.data).n), [
      1,
    ]);
    assert.deepEqual((await c.waitFor(1)).map((e) => JSON.parse(e.data).n), [
      2,
    ]);
    const empty = await publish(`${api}/rooms`, { room: [] });
    assert.equal(empty.status, 422);
    for (const s of [a, ab, c]) s.close();
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
    await raw.waitFor(/: keepalive\n\n[\s\S]*: keepalive\n\n/);
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

  test("CORS: an allowed origin is echoed with Vary: Origin", async () => {
    const controller = new AbortController();
    const response = await fetch(events, {
      headers: { origin: "https://app.example.com" },
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    assert.equal(
      response.headers.get("access-control-allow-origin"),
      "https://app.example.com",
    );
    assert.match(response.headers.get("vary") ?? "", /Origin/);
    controller.abort();
    await response.body?.cancel().catch(() => {});
  });

  test("CORS: a denied origin gets no allow-origin header", async () => {
    const response = await fetch(events, {
      headers: { origin: "https://evil.example" },
    });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get("access-control-allow-origin"), null);
    assert.equal(await response.text(), "origin not allowed\n");
  });

  test("CORS: preflight answers allowed methods and headers", async () => {
    const response = await fetch(events, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example.com",
        "access-control-request-method": "GET",
        "access-control-request-headers": "last-event-id",
      },
    });
    assert.equal(response.status, 204);
    assert.equal(
      response.headers.get("access-control-allow-origin"),
      "https://app.example.com",
    );
    assert.match(
      response.headers.get("access-control-allow-methods") ?? "",
      /GET/,
    );
    assert.match(
      response.headers.get("access-control-allow-headers") ?? "",
      /Last-Event-ID/i,
    );
    const denied = await fetch(events, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example" },
    });
    assert.equal(denied.headers.get("access-control-allow-origin"), null);
    await denied.body?.cancel();
  });

  test("other methods get 405 with Allow, other paths 404", async () => {
    const post = await fetch(events, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, OPTIONS");
    await post.body?.cancel();
    const missing = await fetch(events.replace("/events", "/nope"));
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const health = await fetch(events.replace("/events", "/healthz"));
    assert.equal(health.status, 200);
    assert.match(await health.text(), /^ok \d+ connections\n$/);
  });

  test("too many rooms, long names and control characters get a 400 with the reason", async () => {
    const many = Array.from({ length: 65 }, (_, i) => `r${i}`).join(",");
    const cases: [string, RegExp][] = [
      [`?rooms=${many}`, /too many rooms: at most 64/],
      [`?room=${"x".repeat(129)}`, /longer than 128 bytes/],
      [`?room=a%0Ab`, /control character/],
      [`?user_id=a%00`, /control character/],
      [`?user_id=1&user_id=2`, /more than once/],
    ];
    for (const [query, reason] of cases) {
      const response = await fetch(events + query);
      assert.equal(response.status, 400, query);
      assert.match(await response.text(), reason);
    }
    const ok = await fetch(
      `${events}?rooms=${
        Array.from({ length: 64 }, (_, i) => `r${i}`).join(",")
      }`,
    );
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  });

  test("REST answers 202, 400, 413, 415, 422 with reasons", async () => {
    assert.deepEqual(await publish(`${api}/notify/user/nobody`, { a: 1 }), {
      status: 202,
      body: { delivered: 0 },
    });
    const badJson = await publish(`${api}/notify`, "{nope");
    assert.equal(badJson.status, 400);
    assert.match(String(badJson.body.error), /not valid JSON/);
    const array = await publish(`${api}/notify`, "[1]");
    assert.equal(array.status, 400);
    assert.match(
      String(array.body.error),
      /must be a JSON object, got an array/,
    );
    const big = await publish(`${api}/notify`, { x: "y".repeat(2000) });
    assert.equal(big.status, 413);
    const form = await fetch(`${api}/notify`, {
      method: "POST",
      body: "a=1",
      headers: { "content-type": "text/plain" },
    });
    assert.equal(form.status, 415);
    assert.match(
      (await form.json()).error,
      /expected content-type application\/json/,
    );
    const noTarget = await publish(`${api}/rooms`, { text: "where to?" });
    assert.equal(noTarget.status, 422);
    assert.equal(
      noTarget.body.error,
      "flow by_body: target input.room is missing",
    );
    const emptyTarget = await publish(`${api}/rooms`, { room: "" });
    assert.equal(emptyTarget.status, 422);
    assert.match(String(emptyTarget.body.error), /input.room is empty/);
    const wrongMethod = await fetch(`${api}/notify`, { method: "PUT" });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get("allow"), "POST");
    await wrongMethod.body?.cancel();
  });

  test("a subscriber idle longer than Bun's default idle timeout stays connected", async () => {
    // heartbeat_interval is 300ms in this config, so look at a quiet hub below.
    const user = subscribe(`${events}?user_id=idle`);
    await user.opened;
    await sleep(200);
    assert.equal(
      (await publish(`${api}/notify/user/idle`, { n: 1 })).body.delivered,
      1,
    );
    await user.waitFor(1);
    user.close();
  });
});

describe(`quiet hub (${RUNTIME})`, () => {
  test("a subscriber that receives nothing for 15 s (heartbeat 30 s) is still connected", async () => {
    const hypha = await startHypha(restExample(`heartbeat_interval = "30s"`));
    try {
      const raw = await rawRequest(
        hypha.urls.sse,
        `GET /events?user_id=7 HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      await raw.waitFor(/retry: \d+\n\n/);
      let closed = false;
      raw.closed.then(() => closed = true);
      await sleep(15_000);
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
