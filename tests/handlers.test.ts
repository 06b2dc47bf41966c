/**
 * The SSE and REST handlers in process, through their fetch functions:
 * exact status codes, headers and bodies, without processes or ports.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { subscribe } from "./support/clients.ts";
import {
  type Call,
  type InProcess,
  inProcess,
  post,
} from "./support/in_process.ts";
import { merge, restExample, ROOMS_FLOW } from "./support/config_builder.ts";

const CONFIG = merge(
  restExample(
    {
      heartbeat_interval: "300ms",
      cors: { allowed_origins: ["https://app.example.com"] },
    },
    { max_body: "1KiB" },
  ),
  {
    flow: { by_body: merge(ROOMS_FLOW, { to: { event: "input.kind" } }) },
  },
);

describe("SSE and REST handlers in process", () => {
  let app: InProcess;
  let sse: Call;
  let api: Call;
  const listen = (query: string, types?: string[]) =>
    subscribe(`http://sse.test/events${query}`, {
      fetch: app.fetchOf("sse"),
      types,
    });

  before(async () => {
    app = await inProcess(CONFIG);
    sse = app.call("sse");
    api = app.call("api");
  });
  after(async () => {
    await app.stop();
  });

  test("a numeric target renders as an integer and the event type can come from the body", async () => {
    const room = listen("?room=42", ["order.created"]);
    await room.opened;
    assert.deepEqual(
      await post(api, "/rooms", { room: 42.0, kind: "order.created" }),
      { status: 202, body: { delivered: 1 } },
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
    const a = listen("?room=a");
    const ab = listen("?rooms=a,b");
    const c = listen("?room=c");
    await Promise.all([a.opened, ab.opened, c.opened]);
    assert.deepEqual(await post(api, "/rooms", { room: ["a", "b"], n: 1 }), {
      status: 202,
      body: { delivered: 2 },
    });
    assert.deepEqual(await post(api, "/rooms", { room: ["c"], n: 2 }), {
      status: 202,
      body: { delivered: 1 },
    });
    const ns = async (s: typeof a) =>
      (await s.waitFor(1)).map((e) => JSON.parse(e.data).n);
    assert.deepEqual(await ns(ab), [1]);
    assert.deepEqual(await ns(a), [1]);
    assert.deepEqual(await ns(c), [2]);
    const empty = await post(api, "/rooms", { room: [] });
    assert.equal(empty.status, 422);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(ab.events.length, 1, "nothing more arrived");
    for (const s of [a, ab, c]) s.close();
  });

  test("CORS: an allowed origin is echoed with Vary: Origin", async () => {
    const response = await sse("/events", {
      headers: { origin: "https://app.example.com" },
    });
    assert.equal(response.status, 200);
    assert.equal(
      response.headers.get("access-control-allow-origin"),
      "https://app.example.com",
    );
    assert.match(response.headers.get("vary") ?? "", /Origin/);
    await response.body?.cancel();
  });

  test("CORS: a denied origin gets 403 and no allow-origin header", async () => {
    const response = await sse("/events", {
      headers: { origin: "https://evil.example" },
    });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get("access-control-allow-origin"), null);
    assert.equal(await response.text(), "origin not allowed\n");
  });

  test("CORS: preflight answers allowed methods and headers", async () => {
    const response = await sse("/events", {
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
    const denied = await sse("/events", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example" },
    });
    assert.equal(denied.status, 403);
    assert.equal(denied.headers.get("access-control-allow-origin"), null);
    await denied.body?.cancel();
  });

  test("other methods get 405 with Allow, other paths 404, /healthz answers", async () => {
    const postEvents = await sse("/events", { method: "POST", body: "x" });
    assert.equal(postEvents.status, 405);
    assert.equal(postEvents.headers.get("allow"), "GET, OPTIONS");
    await postEvents.body?.cancel();
    const missing = await sse("/nope");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const health = await sse("/healthz");
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
      const response = await sse(`/events${query}`);
      assert.equal(response.status, 400, query);
      assert.match(await response.text(), reason);
    }
    const ok = await sse(
      `/events?rooms=${
        Array.from({ length: 64 }, (_, i) => `r${i}`).join(",")
      }`,
    );
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  });

  test("REST answers 202, 400, 413, 415, 422 and 405 with reasons", async () => {
    assert.deepEqual(await post(api, "/notify/user/nobody", { a: 1 }), {
      status: 202,
      body: { delivered: 0 },
    });
    const badJson = await post(api, "/notify", "{nope");
    assert.equal(badJson.status, 400);
    assert.match(String(badJson.body.error), /not valid JSON/);
    const scalar = await post(api, "/notify", "1");
    assert.equal(scalar.status, 400);
    assert.match(
      String(scalar.body.error),
      /must be a JSON object, got a number/,
    );
    // An array is a batch (tests/batch_publish.test.ts): each item refused.
    const array = await post(api, "/notify", "[1]");
    assert.equal(array.status, 422);
    assert.match(
      JSON.stringify(array.body.results),
      /message is a number, expected a JSON object/,
    );
    const big = await post(api, "/notify", { x: "y".repeat(2000) });
    assert.equal(big.status, 413);
    const form = await api("/notify", {
      method: "POST",
      body: "a=1",
      headers: { "content-type": "text/plain" },
    });
    assert.equal(form.status, 415);
    assert.match(
      (await form.json()).error,
      /expected content-type application\/json/,
    );
    const noTarget = await post(api, "/rooms", { text: "where to?" });
    assert.equal(noTarget.status, 422);
    assert.equal(
      noTarget.body.error,
      "flow by_body: target input.room is missing",
    );
    const emptyTarget = await post(api, "/rooms", { room: "" });
    assert.equal(emptyTarget.status, 422);
    assert.match(String(emptyTarget.body.error), /input.room is empty/);
    const wrongMethod = await api("/notify", { method: "PUT" });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get("allow"), "POST");
    await wrongMethod.body?.cancel();
  });
});
