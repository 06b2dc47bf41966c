import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  compileExpression,
  evaluate,
  renderName,
} from "../src/core/flows/expression.ts";
import {
  compileFlow,
  type Flow,
  type Outcome,
  sendThrough,
} from "../src/core/flows/flows.ts";
import type { Hub } from "../src/core/hub/hub.ts";
import { hubTarget } from "../src/core/flows/target.ts";
import { testHub } from "./support/hub.ts";
import { compileTopic } from "../src/core/flows/topic.ts";

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

describe("sending through flows", () => {
  const withHub = (fn: (hub: Hub) => void) => {
    const hub = testHub({
      history: { size: 100, maxBytes: 1 << 20, ttlMs: 60_000 },
    });
    try {
      fn(hub);
    } finally {
      hub.close(0);
    }
  };
  const send = (flows: Flow[], input: Record<string, unknown>) =>
    sendThrough(flows, { input, meta: {} }, "k") as Outcome;

  test("a message with a missing target is refused whole, and never sent to a room named after the expression", () => {
    withHub((hub) => {
      const literal = hub.subscribe({
        rooms: new Set(["input.room"]),
        userId: undefined,
      });
      const flows = [
        compileFlow({ name: "all", to: hubTarget(hub, "broadcast") }),
        compileFlow({
          name: "room",
          to: hubTarget(hub, "send_to_room"),
          target: "input.room",
        }),
      ];
      assert.deepEqual(send(flows, { text: "x" }), {
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
      const flows = [compileFlow({
        name: "room",
        to: hubTarget(hub, "send_to_room"),
        target: "input.rooms",
      })];
      const sent = send(flows, { rooms: ["a", 42, "a"] });
      assert.ok(sent.ok);
      assert.equal(sent.flows, 1);
      assert.equal(sent.delivered, 2);
      assert.equal(sent.ids.length, 1);
      assert.deepEqual(send(flows, { rooms: [] }), {
        ok: false,
        code: "bad_target",
        reason:
          "flow room: target input.rooms is a list that is empty, longer than 1000 or holds something other than strings and numbers",
      });
      assert.equal(send(flows, { rooms: ["a", { x: 1 }] }).ok, false);
      assert.equal(
        send(flows, { rooms: Array.from({ length: 1001 }, (_, i) => `r${i}`) })
          .ok,
        false,
      );
      a.disconnect();
      ab.disconnect();
    });
  });

  test("a message that matched no flow is refused with a reason", () => {
    assert.deepEqual(sendThrough([], { input: {}, meta: {} }, "other"), {
      ok: false,
      code: "no_flow",
      reason: 'no flow matches "other"',
    });
  });

  test("an event type from an expression must be a usable name; a missing one falls back to message", async () => {
    const hub = testHub();
    const events: string[] = [];
    const stream = hub.subscribe({ rooms: new Set(), userId: undefined })
      .stream;
    const reading = (async () => {
      for await (const chunk of stream) {
        for (
          const m of new TextDecoder().decode(chunk).matchAll(/^event: (.*)$/gm)
        ) {
          events.push(m[1]);
        }
      }
    })();
    const flows = [compileFlow({
      name: "f",
      to: hubTarget(hub, "broadcast"),
      event: "input.type",
    })];
    const bad = send(flows, { type: "a\nb" });
    assert.equal(bad.ok, false);
    assert.equal(
      send(flows, { type: "a\tb" }).ok,
      false,
      "no control characters",
    );
    assert.equal(send(flows, { type: "x".repeat(129) }).ok, false, "bounded");
    assert.equal(send(flows, {}).ok, true);
    assert.equal(send(flows, { type: "order.created" }).ok, true);
    hub.close(0);
    await reading;
    assert.deepEqual(events, ["message", "order.created"]);
  });
});
