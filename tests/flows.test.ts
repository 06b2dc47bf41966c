import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  compileExpression,
  evaluate,
  renderName,
} from "../src/core/expression.ts";
import { createRouter } from "../src/core/flows.ts";
import { createHub, type Hub } from "../src/core/hub.ts";
import { compileTopic } from "../src/core/topic.ts";

describe("topic patterns", () => {
  const cases: [string, string, boolean][] = [
    ["feed.item", "feed.item", true],
    ["feed.item", "feed.items", false],
    ["feed.*", "feed.item", true],
    ["feed.*", "feed", false],
    ["feed.*", "feed.item.x", false],
    ["feed.#", "feed", true],
    ["feed.#", "feed.a.b.c", true],
    ["#.created", "order.created", true],
    ["#.created", "created", true],
    ["#.created", "order.x.created", true],
    ["#.created", "order.updated", false],
    ["*.room.#", "eu.room", true],
    ["*.room.#", "room", false],
    ["a.#.z", "a.z", true],
    ["a.#.z", "a.b.c.z", true],
    ["#", "", true],
    ["a+b", "a+b", true],
    ["a.(b)", "a.(b)", true],
  ];
  for (const [pattern, key, expected] of cases) {
    test(`${pattern} ${expected ? "matches" : "does not match"} "${key}"`, () => {
      assert.equal(compileTopic(pattern)(key), expected);
    });
  }
});

describe("target expressions", () => {
  const message = {
    input: {
      room: "orders",
      user_id: 42,
      n: 1.5,
      nested: { a: { b: "deep" } },
      list: [1],
    },
    meta: { routing_key: "x.y", headers: { room: "h" } },
  };
  const value = (text: string) => evaluate(compileExpression(text), message);

  test("evaluate reads dotted paths in input and meta", () => {
    assert.equal(value("input.room"), "orders");
    assert.equal(value("input.nested.a.b"), "deep");
    assert.equal(value("meta.headers.room"), "h");
    assert.equal(value("input.missing.x"), undefined);
    assert.equal(
      value("input.constructor"),
      undefined,
      "inherited properties are not read",
    );
  });

  test("renderName renders integral numbers without a fraction", () => {
    assert.equal(renderName(42), "42");
    assert.equal(renderName(42.0), "42");
    assert.equal(renderName(1e21), "1000000000000000000000");
    assert.equal(renderName(1.5), "1.5");
    assert.equal(renderName(""), undefined);
    assert.equal(renderName(null), undefined);
    assert.equal(renderName({}), undefined);
    assert.equal(renderName(true), undefined);
  });
});

describe("router", () => {
  const hubOptions = {
    heartbeatMs: 60_000,
    retryMs: 1000,
    maxBufferedBytes: 1 << 20,
    history: { size: 100, maxBytes: 1 << 20, ttlMs: 60_000 },
    gapEvent: "gap",
  };
  const withHub = (fn: (hub: Hub) => void) => {
    const hub = createHub(hubOptions);
    try {
      fn(hub);
    } finally {
      hub.close(0);
    }
  };

  test("a message with a missing target is refused whole, and never sent to a room named after the expression", () => {
    withHub((hub) => {
      const literal = hub.subscribe({
        rooms: new Set(["input.room"]),
        userId: undefined,
      });
      const router = createRouter([
        {
          name: "all",
          source: "s",
          matches: () => true,
          hub,
          operation: "broadcast",
        },
        {
          name: "room",
          source: "s",
          matches: () => true,
          hub,
          operation: "send_to_room",
          target: "input.room",
        },
      ]);
      const outcome = router.route("s", "k", {
        input: { text: "x" },
        meta: {},
      });
      assert.deepEqual(outcome, {
        ok: false,
        code: "bad_target",
        reason: "flow room: target input.room is missing",
      });
      assert.equal(
        hub.stats().events,
        0,
        "nothing was published, not even the broadcast",
      );
      literal.disconnect();
    });
  });

  test("a target list sends to several rooms; an empty or mixed list is refused", () => {
    withHub((hub) => {
      const a = hub.subscribe({ rooms: new Set(["a"]), userId: undefined });
      const ab = hub.subscribe({
        rooms: new Set(["a", "42"]),
        userId: undefined,
      });
      const router = createRouter([
        {
          name: "room",
          source: "s",
          matches: () => true,
          hub,
          operation: "send_to_room",
          target: "input.rooms",
        },
      ]);
      const send = (rooms: unknown) =>
        router.route("s", "k", { input: { rooms }, meta: {} });
      assert.deepEqual(send(["a", 42, "a"]), {
        ok: true,
        flows: 1,
        delivered: 2,
      });
      assert.deepEqual(send([]), {
        ok: false,
        code: "bad_target",
        reason:
          "flow room: target input.rooms is a list that is empty, longer than 1000 or holds something other than strings and numbers",
      });
      assert.equal(send(["a", { x: 1 }]).ok, false);
      assert.equal(
        send(Array.from({ length: 1001 }, (_, i) => `r${i}`)).ok,
        false,
      );
      a.disconnect();
      ab.disconnect();
    });
  });

  test("a message matching no flow is refused with a reason", () => {
    withHub((hub) => {
      const router = createRouter([{
        name: "f",
        source: "s",
        matches: compileTopic("feed.*"),
        hub,
        operation: "broadcast",
      }]);
      assert.deepEqual(router.route("s", "other", { input: {}, meta: {} }), {
        ok: false,
        code: "no_flow",
        reason: 'no flow matches "other"',
      });
      assert.deepEqual(router.route("s", "feed.x", { input: {}, meta: {} }), {
        ok: true,
        flows: 1,
        delivered: 0,
      });
    });
  });

  test("an event type from an expression must be a usable name", () => {
    withHub((hub) => {
      const router = createRouter([{
        name: "f",
        source: "s",
        matches: () => true,
        hub,
        operation: "broadcast",
        event: "input.type",
      }]);
      const bad = router.route("s", "k", { input: { type: "a\nb" }, meta: {} });
      assert.equal(bad.ok, false);
      assert.equal(
        router.route("s", "k", { input: {}, meta: {} }).ok,
        true,
        "missing type falls back to message",
      );
    });
  });
});
