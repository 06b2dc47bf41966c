/**
 * The parts that keep a storm from reaching the app, in process: the
 * shared cache (single flight), the bound on calls in flight, and the
 * callback authorizer over a real backend on a real port.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseGrant } from "../src/auth/callback.ts";
import { createCallbackAuthorizer } from "../src/auth/callback_authorizer.ts";
import { createCallbackProbe } from "../src/auth/callback_probe.ts";
import { createCallLimit } from "../src/auth/call_limit.ts";
import { createRefusals } from "../src/auth/refusal.ts";
import { createSharedCache } from "../src/auth/shared_cache.ts";
import type { Grant } from "../src/core/http/handler.ts";
import {
  parseSubscriberQuery,
  type SubscriberQuery,
} from "../src/core/http/query.ts";
import { startAppBackend } from "./support/app_backend.ts";

/** A promise and the function that settles it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => open = r);
  return { promise, open };
}

describe("shared cache", () => {
  test("concurrent gets of one key share one load, then the value is kept for its ttl", async () => {
    let t = 0;
    let loads = 0;
    const cache = createSharedCache<string>({
      maxEntries: 10,
      ttlOf: (v) => v === "refused" ? 5 : 30,
      now: () => t,
    });
    const held = gate();
    const load = async () => {
      loads++;
      await held.promise;
      return "granted";
    };
    const pending = [cache.get("a", load), cache.get("a", load)];
    held.open();
    assert.deepEqual(await Promise.all(pending), [
      ["granted", "call"],
      ["granted", "shared"],
    ]);
    assert.deepEqual(await cache.get("a", load), ["granted", "cache"]);
    t = 30;
    assert.deepEqual(await cache.get("a", load), ["granted", "call"]);
    assert.equal(loads, 2);
    assert.deepEqual(
      await cache.get("b", () => Promise.resolve("refused")),
      ["refused", "call"],
    );
    t = 35;
    assert.deepEqual(
      await cache.get("b", () => Promise.resolve("again")),
      ["again", "call"],
    );
  });

  test("past maxEntries the least recently used value goes; ttl 0 keeps nothing", async () => {
    const cache = createSharedCache<number>({
      maxEntries: 2,
      ttlOf: (v) => v < 0 ? 0 : 1000,
    });
    const value = (v: number) => () => Promise.resolve(v);
    await cache.get("a", value(1));
    await cache.get("b", value(2));
    await cache.get("a", value(0)); // a is now the most recent
    await cache.get("c", value(3));
    assert.equal(cache.size, 2);
    assert.deepEqual(await cache.get("a", value(9)), [1, "cache"]);
    assert.deepEqual(await cache.get("b", value(9)), [9, "call"]);
    await cache.get("d", value(-1));
    assert.deepEqual(await cache.get("d", value(4)), [4, "call"]);
  });
});

describe("call limit", () => {
  test("past max a call waits for a place, and is busy if none frees up in time", async () => {
    const limit = createCallLimit(1, 50);
    const first = gate();
    const running = limit(() => first.promise.then(() => "first"));
    assert.equal(await limit(() => Promise.resolve("second")), "busy");
    const third = limit(() => Promise.resolve("third"));
    first.open();
    assert.deepEqual(await Promise.all([running, third]), ["first", "third"]);
    assert.equal(await limit(() => Promise.resolve("fourth")), "fourth");
  });
});

describe("callback authorizer", () => {
  const query = (search: string) =>
    parseSubscriberQuery(search) as SubscriberQuery;
  const ask =
    (authorize: ReturnType<typeof createCallbackAuthorizer>) =>
    (search: string, sid: string) =>
      Promise.resolve(authorize(
        new Request(`http://hypha/events${search}`, {
          headers: { cookie: `sid=${sid}` },
        }),
        query(search),
        { remoteAddr: "127.0.0.1" },
      ));

  test("past max_inflight a subscriber waits, then gets 503 with Retry-After; identical requests share a call", async () => {
    const app = await startAppBackend();
    const probe = createCallbackProbe();
    const busy: number[] = [];
    probe.listen({ busy: () => busy.push(1) });
    const authorize = ask(createCallbackAuthorizer({
      url: app.callback,
      connector: "sse",
      forwardHeaders: ["cookie"],
      timeoutMs: 10_000,
      waitMs: 50,
      cacheTtlMs: 30_000,
      cacheSize: 100,
      maxInflight: 1,
      anonymous: false,
      publicRooms: [],
      refusals: createRefusals("sse"),
      probe,
    }));
    try {
      const held = gate();
      app.sessions.set("slow", {
        user_id: "a",
        rooms: ["r"],
        hold: held.promise,
      });
      app.sessions.set("other", { user_id: "b", rooms: ["r"] });
      const first = [
        authorize("?rooms=r", "slow"),
        authorize("?rooms=r", "slow"),
      ];
      // The slow call holds the only slot once the app has it.
      while (app.callsFor("slow") === 0) {
        await new Promise((r) => setTimeout(r, 5));
      }
      const refused = await authorize("?rooms=r", "other");
      assert.ok(refused instanceof Response);
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get("retry-after"), "5");
      assert.equal(
        await refused.text(),
        "authorization is busy, retry later\n",
      );
      assert.deepEqual(busy, [1]);
      held.open();
      for (const grant of await Promise.all(first)) {
        assert.deepEqual(grant as Grant, {
          rooms: new Set(["r"]),
          userId: "a",
          expiresAt: undefined,
        });
      }
      assert.equal(app.callsFor("slow"), 1);
      // Busy is not an answer: the next request calls.
      const after = await authorize("?rooms=r", "other");
      assert.equal((after as Grant).userId, "b");
      assert.equal(app.callsFor("other"), 1);
    } finally {
      await app.close();
    }
  });
});

describe("parseGrant", () => {
  test("a 200 answer that is not the agreed JSON is malformed, saying what without the values", () => {
    const cases: [string, string][] = [
      ["[1]", "the answer: expected a JSON object"],
      ['{"rooms": "orders"}', "rooms: expected a list of strings"],
      ['{"rooms": [1]}', "rooms.0: expected a list of strings"],
      ['{"user_id": 42}', "user_id: expected a string"],
      [
        '{"expires_at": "soon"}',
        "expires_at: expected a number (Unix seconds)",
      ],
      ['{"user_id": "a\\nb"}', "user_id name contains a control character"],
      ["welcome", "the answer is not JSON"],
    ];
    for (const [text, detail] of cases) {
      assert.deepEqual(parseGrant(text), {
        kind: "failed",
        failure: "malformed",
        detail,
      });
    }
    assert.deepEqual(parseGrant('{"user_id": null, "extra": 1}'), {
      kind: "grant",
      userId: undefined,
      rooms: [],
      expiresAt: undefined,
    });
  });
});
