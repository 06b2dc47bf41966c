/**
 * The presence API in process: publisher tokens, answers for rooms and
 * users, paging, bad requests, and a REST connector publishing to two SSE
 * connectors with presence. Config errors of lifecycle flows.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { subscribe } from "./support/clients.ts";
import { type Call, inProcess } from "./support/in_process.ts";
import { errorOf } from "./support/config_errors.ts";
import {
  type ConfigInput,
  type ConfigPart,
  flow,
  merge,
  type Overrides,
  type PresenceInput,
  toml,
} from "./support/config_builder.ts";

/** The SSE connector `name` with `presence`, and POST /<name>/:room to it. */
const sseWith = (
  name: string,
  presence?: Overrides<PresenceInput>,
): ConfigPart => ({
  connector: { [name]: { type: "sse", port: 0, presence } },
  flow: {
    [`to_${name}`]: flow(
      { connector: "api", operation: `POST /${name}/:room` },
      { connector: name, operation: "send_to_room", target: "input.room" },
    ),
  },
});

/** The REST connector "api" with the publisher token. */
const API: ConfigInput = {
  connector: { api: { type: "rest", port: 0, auth: { tokens: ["s3cret"] } } },
};

const AUTH = { authorization: "Bearer s3cret" };

// deno-lint-ignore no-explicit-any
async function get(call: Call, path: string): Promise<[number, any]> {
  const response = await call(path, { headers: AUTH });
  return [response.status, await response.json()];
}

describe("presence API", () => {
  test("answers rooms, users and pages with the publisher token; refuses without it", async () => {
    const app = await inProcess(
      merge(API, sseWith("sse", { members: true })),
    );
    const clients = [
      subscribe("http://sse.test/events?rooms=a,b&user_id=ann", {
        fetch: app.fetchOf("sse"),
      }),
      subscribe("http://sse.test/events?room=b", { fetch: app.fetchOf("sse") }),
      subscribe("http://sse.test/events?room=c&user_id=ann", {
        fetch: app.fetchOf("sse"),
      }),
    ];
    await Promise.all(clients.map((c) => c.opened));
    const call = app.call("api");
    try {
      assert.equal((await call("/presence/rooms/b")).status, 401);
      assert.deepEqual(await get(call, "/presence/rooms/b"), [200, {
        room: "b",
        connections: 2,
        users: 1,
        members: ["ann"],
      }]);
      assert.deepEqual(await get(call, "/presence/rooms/nobody"), [200, {
        room: "nobody",
        connections: 0,
        users: 0,
        members: [],
      }]);
      assert.deepEqual(await get(call, "/presence/users/ann"), [200, {
        user_id: "ann",
        connections: 2,
        rooms: ["a", "b", "c"],
      }]);
      const [, first] = await get(call, "/presence/rooms?limit=2");
      assert.deepEqual(first.rooms.map((r: { room: string }) => r.room), [
        "a",
        "b",
      ]);
      assert.equal(first.next, "b");
      assert.deepEqual(await get(call, "/presence/rooms?after=b"), [200, {
        rooms: [{ room: "c", connections: 1, users: 1 }],
        next: null,
      }]);
      assert.deepEqual(await get(call, "/presence/rooms?limit=0"), [400, {
        error: 'limit: expected a whole number from 1 to 1000, got "0"',
      }]);
      assert.equal((await get(call, "/presence/elsewhere"))[0], 404);
      const posted = await call("/presence/rooms", {
        method: "POST",
        headers: AUTH,
      });
      assert.equal(posted.status, 405);
      await posted.body?.cancel();
    } finally {
      for (const c of clients) c.close();
      await app.stop();
    }
  });

  test("a REST connector publishing to two SSE connectors with presence is asked with ?connector=", async () => {
    const app = await inProcess(
      merge(API, sseWith("one", {}), sseWith("two", {})),
    );
    const client = subscribe("http://two.test/events?room=x", {
      fetch: app.fetchOf("two"),
    });
    await client.opened;
    const call = app.call("api");
    try {
      assert.deepEqual(await get(call, "/presence/rooms/x"), [400, {
        error:
          "this connector publishes to several with presence (one, two): add ?connector=<name>",
      }]);
      assert.deepEqual(await get(call, "/presence/rooms/x?connector=two"), [
        200,
        { room: "x", connections: 1, users: 0 },
      ]);
      assert.deepEqual(await get(call, "/presence/rooms/x?connector=one"), [
        200,
        { room: "x", connections: 0, users: 0 },
      ]);
    } finally {
      client.close();
      await app.stop();
    }
  });

  test("a flow reading an SSE connector names one of its lifecycle operations", () => {
    const text = toml(merge(API, sseWith("sse"), {
      flow: {
        f: flow(
          { connector: "sse", operation: "conected" },
          { connector: "sse", operation: "broadcast" },
        ),
      },
    }));
    assert.equal(
      errorOf(text),
      'hypha.toml: flow.f.from.operation: an sse connector\'s operations are connected, disconnected, room_occupied, room_vacated (or none, for all); got "conected" (did you mean "connected"?)',
    );
  });
});
