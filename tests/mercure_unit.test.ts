/**
 * Mercure's rules in process: topic selectors as the reference hub matches
 * them, the topic index (one test per distinct template, not per
 * subscriber), the publish form's refusals, the wire of an update, the
 * config in TOML and HCL, and its refusals.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { loadConfig, parseConfig } from "../src/config/load.ts";
import type { Connection } from "../src/core/hub/connection.ts";
import { createHub } from "../src/core/hub/hub.ts";
import { createMemoryLog } from "../src/core/history/memory_log.ts";
import { publishUpdate } from "../src/core/flows/mercure_update.ts";
import { createTopicIndex } from "../src/core/hub/topic_index.ts";
import { selectorMatches } from "../src/core/hub/topic_selector.ts";
import { formUpdate } from "../src/mercure/publish.ts";
import { parseMercureQuery } from "../src/mercure/subscribe_query.ts";
import { writeConfig } from "./support/hypha.ts";
import { mercureConfig } from "./support/mercure.ts";
import { readFile } from "node:fs/promises";
import { flow, toml } from "./support/config_builder.ts";

describe("selectorMatches", () => {
  test("selectorMatches follows the spec's steps: *, equality, then the URI template", () => {
    const cases: [string, string, boolean][] = [
      ["*", "anything at all", true],
      ["https://e/books/{id}", "https://e/books/{id}", true],
      ["https://e/books/{id}", "https://e/books/1", true],
      ["https://e/books/{id}", "https://e/books/1/reviews", false],
      ["https://e/{+path}", "https://e/books/1/reviews", true],
      ["https://e/books/{id}.jsonld", "https://e/books/7.jsonld", true],
      [
        "https://e/users/foo/{?topic}",
        "https://e/users/foo/?topic=https%3A%2F%2Fe%2Fbooks%2F1",
        true,
      ],
      ["https://e/bar/{var}", "https://e/foo/x", false],
      // Not a valid template: a raw string, equal or not.
      ["https://e/{broken", "https://e/{broken", true],
      ["https://e/{broken", "https://e/x", false],
    ];
    for (const [selector, topic, expected] of cases) {
      assert.equal(selectorMatches(selector, topic), expected, selector);
    }
  });
});

describe("topic index", () => {
  test("10,000 subscribers over 1,000 distinct selectors: an update reaches exactly those whose selector matches one of its topics", () => {
    const index = createTopicIndex();
    const connections: Connection[] = [];
    for (let i = 0; i < 10_000; i++) {
      const k = i % 1000;
      const selectors = k % 2 === 0
        ? [`https://e/rooms/${k}/{id}`]
        : [`https://e/items/${k}`];
      const c = { topics: { selectors, allowed: [] } } as unknown as Connection;
      connections.push(c);
      index.add(c);
    }
    assert.equal(index.selectors, 1000);
    const reach = (topics: string[]) => {
      const groups: (ReadonlySet<Connection> | undefined)[] = [];
      index.collect(topics, groups);
      const set = new Set<Connection>();
      for (const g of groups) for (const c of g ?? []) set.add(c);
      return set;
    };
    assert.equal(reach(["https://e/rooms/42/x"]).size, 10);
    assert.equal(reach(["https://e/items/43", "https://e/rooms/2/y"]).size, 20);
    assert.equal(reach(["https://e/rooms/43/x"]).size, 0);
    // Cached per topic; a template added later is still found.
    const late = {
      topics: { selectors: ["https://e/rooms/{n}/x"], allowed: [] },
    } as unknown as Connection;
    index.add(late);
    assert.equal(reach(["https://e/rooms/42/x"]).size, 11);
    index.remove(late);
    for (const c of connections) index.remove(c);
    assert.equal(reach(["https://e/rooms/42/x"]).size, 0);
    assert.equal(index.selectors, 0);
  });
});

describe("Mercure publish form and query", () => {
  test("formUpdate refuses what cannot be an update, with the reason", async () => {
    const problems: [string, string][] = [
      ["data=x", "missing topic\n"],
      ["topic=a&id=%23frag", "id must not start with #\n"],
      ["topic=a&id=a%0Ab", "id cannot contain CR, LF or NUL\n"],
      ["topic=a&type=a%0Ab", "type contains a control character\n"],
      ["topic=a&retry=1s", "retry must be a number of milliseconds\n"],
    ];
    for (const [body, reason] of problems) {
      const answer = formUpdate(new URLSearchParams(body));
      assert.ok(answer instanceof Response, body);
      assert.equal(answer.status, 400);
      assert.equal(await answer.text(), reason);
    }
    assert.deepEqual(
      formUpdate(new URLSearchParams("topic=a&topic=b&private=&retry=5")),
      {
        topics: ["a", "b"],
        data: "",
        private: true,
        id: undefined,
        type: undefined,
        retry: 5,
      },
    );
  });

  test("parseMercureQuery needs a topic and takes lastEventID and authorization once", () => {
    assert.deepEqual(parseMercureQuery("?lastEventID=1"), {
      error: "missing topic",
    });
    assert.deepEqual(
      parseMercureQuery("?topic=a&lastEventID=1&lastEventID=2"),
      {
        error: "lastEventID is given more than once",
      },
    );
    assert.deepEqual(parseMercureQuery("?topic=a&topic=a&topic=*"), {
      selectors: ["a", "*"],
      lastEventId: undefined,
      token: undefined,
    });
  });

  test("an update goes on the wire with its id, type, retry and every data line", async () => {
    const hub = createHub({
      log: createMemoryLog({
        history: { size: 10, maxBytes: 1 << 20, ttlMs: 60_000 },
      }),
      heartbeatMs: 0,
      retryMs: 100,
      maxBufferedBytes: 1 << 20,
      gapEvent: "gap",
    });
    const subscriber = hub.subscribe({
      rooms: new Set(),
      userId: undefined,
      topics: { selectors: ["https://e/{x}"], allowed: [] },
    });
    await publishUpdate(hub, {
      topics: ["https://e/1"],
      data: "a\nb",
      private: false,
      id: "urn:x:1",
      type: "t",
      retry: 1500,
    });
    await publishUpdate(hub, {
      topics: ["https://e/2"],
      data: "private",
      private: true,
    });
    const reader = subscriber.stream.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("data: b\n\n")) {
      text += decoder.decode((await reader.read()).value);
    }
    assert.equal(
      text,
      "retry: 100\n\nid: urn:x:1\nevent: t\nretry: 1500\ndata: a\ndata: b\n\n",
    );
    subscriber.disconnect();
    hub.close(0);
  });
});

describe("Mercure config", () => {
  test("protocol = mercure serves /.well-known/mercure by default, in TOML and in HCL", async () => {
    const { config } = parseConfig(toml(mercureConfig()), "hub.toml", {});
    const hub = config.connector.hub;
    assert.equal(hub.type === "sse" && hub.path, "/.well-known/mercure");
    const hcl = await writeConfig("");
    const path = hcl.path.replace(/\.toml$/, ".hcl");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(
      path,
      `connector "hub" {
  type = "sse"
  protocol = "mercure"
  port = 3002
  publisher_auth {
    jwt_secret = "${"x".repeat(32)}"
  }
  cors {
    publish_origins = ["https://app.example.com"]
  }
}
`,
    );
    const loaded = await loadConfig(path, (p) => readFile(p, "utf8"), {});
    const fromHcl = loaded.config.connector.hub;
    assert.ok(fromHcl.type === "sse");
    assert.equal(fromHcl.path, "/.well-known/mercure");
    assert.deepEqual(fromHcl.cors?.publish_origins, [
      "https://app.example.com",
    ]);
    await hcl.remove();
  });

  test("a Mercure connector without publisher keys, or a flow with the wrong operation, is refused at start with the key", () => {
    const noKeys = `
[connector.hub]
type = "sse"
protocol = "mercure"
port = 0
`;
    assert.throws(
      () => parseConfig(noKeys, "hub.toml", {}),
      /hub\.toml: connector\.hub\.publisher_auth: a Mercure hub verifies publishers' JWTs/,
    );
    const wrongOperation = toml(mercureConfig({
      connector: { api: { type: "rest", port: 0 } },
      flow: {
        f: flow(
          { connector: "api", operation: "POST /x" },
          { connector: "hub", operation: "broadcast" },
        ),
      },
    }));
    assert.throws(
      () => parseConfig(wrongOperation, "hub.toml", {}),
      /flow\.f\.to\.operation: connector "hub" speaks Mercure: its flows use operation = "publish" with topic/,
    );
  });
});
