import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createParser } from "eventsource-parser";
import { parseSubscriberQuery } from "../src/core/http/query.ts";
import { formatEvent } from "../src/core/hub/sse.ts";
import { rawRequest, rawSubscribe, until } from "./support/clients.ts";
import { publish, RUNTIME, startHypha } from "./support/hypha.ts";
import { restExample } from "./support/config_builder.ts";

/** A small seeded PRNG (mulberry32): failures are reproducible by seed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const alphabet = [
    "a",
    "z",
    "0",
    "9",
    ",",
    ".",
    "&",
    "=",
    "%",
    "+",
    " ",
    "\r",
    "\n",
    "\0",
    "\t",
    "\x7f",
    "é",
    "🎉",
    "\ud800",
    "%0A",
    "%00",
    "%ZZ",
    ":",
    "#",
    "*",
  ];
  const text = (max: number) => {
    let out = "";
    const length = int(max);
    for (let i = 0; i < length; i++) {
      out += next() < 0.6
        ? alphabet[int(alphabet.length)]
        : String.fromCharCode(int(0x10000));
    }
    return out;
  };
  return { next, int, text, pick: <T>(xs: readonly T[]) => xs[int(xs.length)] };
}

const SEED = 20261127;
/** encodeURIComponent refuses lone surrogates; a URL cannot carry them anyway. */
const uri = (text: string) =>
  encodeURIComponent(text.replace(/[\ud800-\udfff]/g, "?"));

describe("fuzz: encoder and query parser", () => {
  test("formatEvent either refuses a field with TypeError or produces what an independent parser reads back", () => {
    const r = random(SEED);
    for (let i = 0; i < 3000; i++) {
      const event = r.text(20) || "message";
      const data = r.text(200);
      let wire: string;
      try {
        wire = formatEvent({ id: String(i), event, data });
      } catch (error) {
        assert.ok(error instanceof TypeError, String(error));
        assert.match(event, /[\r\n\0]/);
        continue;
      }
      const seen: { event?: string; data: string; id?: string }[] = [];
      const parser = createParser({ onEvent: (e) => seen.push(e) });
      parser.feed(wire);
      assert.equal(seen.length, 1, JSON.stringify(wire));
      assert.equal(seen[0].data, data.replace(/\r\n|\r/g, "\n"));
      assert.equal(seen[0].id, String(i));
    }
  });

  test("parseSubscriberQuery never throws and only returns subscriptions within the limits", () => {
    const r = random(SEED + 1);
    const keys = [
      "room",
      "rooms",
      "user_id",
      "last_event_id",
      "token",
      "x",
      "",
    ];
    for (let i = 0; i < 3000; i++) {
      const parts = Array.from(
        { length: r.int(80) },
        () => `${r.pick(keys)}=${r.text(r.next() < 0.05 ? 400 : 20)}`,
      );
      const search = "?" + parts.join(r.pick(["&", ",", "&&"]));
      const result = parseSubscriberQuery(search);
      if ("error" in result) {
        assert.equal(typeof result.error, "string");
        continue;
      }
      assert.ok(result.rooms.size <= 64);
      for (const room of result.rooms) {
        assert.ok(new TextEncoder().encode(room).byteLength <= 128);
        // deno-lint-ignore no-control-regex
        assert.doesNotMatch(room, /[\u0000-\u001f\u007f]/);
        assert.notEqual(room.trim(), "");
      }
    }
  });
});

describe(`fuzz: HTTP surfaces (${RUNTIME})`, () => {
  test("random nesting depths: up to 64 delivered, deeper refused with 422, 100,000 deep too", async () => {
    const hypha = await startHypha(restExample());
    try {
      const r = random(SEED + 3);
      const notify = new URL("/notify", hypha.urls.api).href;
      /** A JSON object nesting objects and arrays `depth` deep in all. */
      const nested = (depth: number) => {
        let open = '{"v":';
        let close = "}";
        for (let i = 1; i < depth; i++) {
          const array = r.next() < 0.5;
          open += array ? "[" : '{"k":';
          close = (array ? "]" : "}") + close;
        }
        return open + "1" + close;
      };
      for (let i = 0; i < 200; i++) {
        const depth = 1 + r.int(130);
        const { status, body } = await publish(notify, nested(depth));
        if (depth <= 64) assert.equal(status, 202, `depth ${depth}`);
        else {
          assert.deepEqual({ status, body }, {
            status: 422,
            body: { error: "body nests deeper than 64 levels" },
          }, `depth ${depth}`);
        }
      }
      const attack = '{"a":'.repeat(100_000) + "1" + "}".repeat(100_000);
      assert.deepEqual(await publish(notify, attack), {
        status: 422,
        body: { error: "body nests deeper than 64 levels" },
      });
      assert.equal((await publish(notify, { still: "serving" })).status, 202);
    } finally {
      assert.equal(await hypha.stop(), 0);
    }
  });

  test("thousands of malformed publishes and subscribes are refused with a clear status; the server keeps serving", async () => {
    const hypha = await startHypha(restExample({}, { max_body: "4KiB" }));
    try {
      const r = random(SEED + 2);
      const api = hypha.urls.api;
      const subscriber = await rawSubscribe(hypha.urls.sse, "/events?room=ok");
      const allowed = new Set([202, 400, 404, 405, 413, 415, 422]);
      const types = [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "",
        "application/vnd.x+json",
        "multipart/form-data",
      ];
      // Each body, and whether it is a JSON object (the only thing a route
      // may accept) or certainly refused.
      const bodies = (): [BodyInit, boolean] => {
        const k = r.int(7);
        if (k === 0) return [JSON.stringify({ text: r.text(50) }), true];
        if (k === 1) return [r.text(100), false];
        if (k === 2) return ["[1,2,3]", false];
        if (k === 3) return ["x".repeat(5000), false];
        if (k === 4) return [new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]), false];
        if (k === 5) {
          const room = r.next() < 0.5 ? 42 : { nested: true };
          return [JSON.stringify({ room }), true];
        }
        return ["", false];
      };
      const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
      const NO_ROUTE = ["/", "/nope", "/notify/user/1/extra"];
      let refusals = 0;
      for (let i = 0; i < 1500; i++) {
        const path = r.pick([
          "/notify",
          "/notify/",
          "/notify/a",
          "/notify/user/",
          "/notify/%E0%A4%A",
          "/notify/user/1/extra",
          "/",
          "/nope",
          `/notify/${uri(r.text(10))}`,
        ]);
        const method = r.pick([
          "POST",
          "POST",
          "POST",
          "GET",
          "PUT",
          "DELETE",
          "PATCH",
        ]);
        const type = r.pick(types);
        const init: RequestInit = { method, headers: { "content-type": type } };
        let object = false;
        if (method !== "GET") [init.body, object] = bodies();
        const response = await fetch(api.replace(/\/$/, "") + path, init);
        const reason = await response.text();
        const what =
          `${method} ${path} (${type}): ${response.status} ${reason}`;
        assert.ok(allowed.has(response.status), what);
        const refused = method !== "POST" || !object || !JSON_TYPE.test(type) ||
          NO_ROUTE.includes(path);
        if (!refused) continue;
        refusals++;
        assert.notEqual(response.status, 202, what);
        // The reason is text a person reading curl output understands.
        assert.match(reason, /^[\x20-\x7e]{4,}/, what);
        if (response.status === 415) assert.match(reason, /content-type/, what);
        if (response.status === 413) assert.match(reason, /4096|4 ?KiB/i, what);
      }
      assert.ok(refusals > 1000, `${refusals} certain refusals checked`);
      const sse = hypha.urls.sse.replace(/\/events$/, "");
      for (let i = 0; i < 300; i++) {
        const query = Array.from(
          { length: r.int(5) },
          () =>
            `${r.pick(["room", "rooms", "user_id", "last_event_id"])}=${
              uri(r.text(30))
            }`,
        ).join("&");
        const headers: Record<string, string> = {};
        if (r.next() < 0.5) {
          headers["last-event-id"] = r.text(40).replace(/[^\x20-\x7e]/g, "");
        }
        const controller = new AbortController();
        const response = await fetch(`${sse}/events?${query}`, {
          headers,
          signal: controller.signal,
        });
        assert.ok(
          [200, 400].includes(response.status),
          `${query}: ${response.status}`,
        );
        controller.abort();
        await response.body?.cancel().catch(() => {});
      }
      // A request line and headers far beyond what any client sends.
      const huge = await rawRequest(
        hypha.urls.sse,
        `GET /events?room=${
          "a".repeat(100_000)
        } HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(100_000)}\r\n\r\n`,
      );
      await huge.waitFor(/^HTTP\/1\.1 4\d\d/).catch(() => huge.closed);
      huge.close();

      assert.deepEqual(await publish(`${api}notify/ok`, { still: "serving" }), {
        status: 202,
        body: { delivered: 1 },
      });
      // Random broadcasts reached this subscriber too; the last event is ours.
      await until(
        () =>
          subscriber.events.at(-1)?.data === '{"still":"serving","room":"ok"}',
        "the event published after the fuzzing",
      );
      subscriber.close();
    } finally {
      assert.equal(await hypha.stop(), 0);
    }
  });
});
