/**
 * Batch publish: a JSON array body on a REST route carries many messages;
 * each is delivered or refused on its own and the answer says which, by
 * index. In process, through the REST and SSE fetch functions.
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
import {
  ADMIN,
  merge,
  restExample,
  ROOMS_FLOW,
} from "./support/config_builder.ts";

const CONFIG = merge(
  restExample({}, { max_body: "4KiB", max_batch: 5 }),
  ADMIN,
  {
    flow: { by_body: ROOMS_FLOW },
  },
);

describe("batch publish on REST routes", () => {
  let app: InProcess;
  let api: Call;
  const listen = (query: string) =>
    subscribe(`http://sse.test/events${query}`, { fetch: app.fetchOf("sse") });
  const stats = async () =>
    (await (await app.call("service.admin")("/stats")).json()).sources.api as {
      received: number;
      delivered: number;
      rejected: Record<string, number>;
    };

  before(async () => {
    app = await inProcess(CONFIG);
    api = app.call("api");
  });
  after(async () => {
    await app.stop();
  });

  test("every message of a batch is delivered in order and counted: 202", async () => {
    const a = listen("?room=a");
    const b = listen("?room=b");
    await Promise.all([a.opened, b.opened]);
    const before = await stats();
    const answer = await post(api, "/rooms", [
      { room: "a", n: 1 },
      { room: "b", n: 2 },
      { room: "a", n: 3 },
    ]);
    assert.deepEqual(answer, {
      status: 202,
      body: {
        delivered: 3,
        accepted: 3,
        refused: 0,
        results: [{ delivered: 1 }, { delivered: 1 }, { delivered: 1 }],
      },
    });
    const ns = async (s: typeof a, count: number) =>
      (await s.waitFor(count)).map((e) => JSON.parse(e.data).n);
    assert.deepEqual(await ns(a, 2), [1, 3]);
    assert.deepEqual(await ns(b, 1), [2]);
    const after = await stats();
    assert.equal(after.received - before.received, 3);
    assert.equal(after.delivered - before.delivered, 3);
    a.close();
    b.close();
  });

  test("bad messages are refused on their own, the others delivered: 207", async () => {
    const c = listen("?room=c");
    await c.opened;
    const before = await stats();
    const answer = await post(api, "/rooms", [
      { room: "c", n: 1 },
      { n: 2 },
      "not an object",
      { room: "", n: 4 },
      { room: "c", n: 5 },
    ]);
    assert.equal(answer.status, 207);
    assert.deepEqual(answer.body, {
      delivered: 2,
      accepted: 2,
      refused: 3,
      results: [
        { delivered: 1 },
        {
          error: "bad_target",
          reason: "flow by_body: target input.room is missing",
        },
        {
          error: "not_object",
          reason: "message is a string, expected a JSON object",
        },
        {
          error: "bad_target",
          reason: "flow by_body: target input.room is empty",
        },
        { delivered: 1 },
      ],
    });
    assert.deepEqual(
      (await c.waitFor(2)).map((e) => JSON.parse(e.data).n),
      [1, 5],
    );
    const after = await stats();
    assert.equal(after.received - before.received, 5);
    assert.equal(after.delivered - before.delivered, 2);
    assert.equal(
      after.rejected.bad_target - (before.rejected.bad_target ?? 0),
      2,
    );
    assert.equal(
      after.rejected.not_object - (before.rejected.not_object ?? 0),
      1,
    );
    c.close();
  });

  test("a batch where nothing could be delivered is a 422", async () => {
    const answer = await post(api, "/rooms", [{ n: 1 }, [2]]);
    assert.equal(answer.status, 422);
    assert.equal(answer.body.accepted, 0);
    assert.equal(answer.body.refused, 2);
  });

  test("path params fill every message of a batch", async () => {
    const d = listen("?room=d");
    await d.opened;
    const answer = await post(api, "/notify/d", [{ n: 1 }, { n: 2 }]);
    assert.equal(answer.status, 202);
    assert.deepEqual(
      (await d.waitFor(2)).map((e) => JSON.parse(e.data)),
      [{ n: 1, room: "d" }, { n: 2, room: "d" }],
    );
    d.close();
  });

  test("an empty batch or one over max_batch is refused whole: 400; over max_body 413", async () => {
    const empty = await post(api, "/notify", []);
    assert.equal(empty.status, 400);
    assert.equal(empty.body.error, "batch is empty");
    const many = await post(api, "/notify", Array(6).fill({ n: 1 }));
    assert.equal(many.status, 400);
    assert.equal(
      many.body.error,
      "batch holds 6 messages, more than max_batch (5)",
    );
    const big = await post(
      api,
      "/notify",
      Array(5).fill({ x: "y".repeat(900) }),
    );
    assert.equal(big.status, 413);
  });
});
