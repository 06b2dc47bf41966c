import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SignJWT } from "jose";
import { rawSubscribe } from "./support/clients.ts";
import {
  adminStats,
  type Hypha,
  publish,
  RUNTIME,
  startHypha,
} from "./support/hypha.ts";
import { SECRET, sign } from "./support/auth.ts";
import { ADMIN, flow, merge, restExample } from "./support/config_builder.ts";

const ORIGIN = "https://app.example.com";

/** An HS256 token whose `crit` names a header parameter nobody knows. */
function critToken(): Promise<string> {
  return new SignJWT({ sub: "42" })
    .setProtectedHeader({ alg: "HS256", crit: ["x-unknown"], "x-unknown": 1 })
    .sign(new TextEncoder().encode(SECRET), { crit: { "x-unknown": true } });
}

describe(`refusals say what is wrong (${RUNTIME})`, () => {
  let hypha: Hypha;
  let api: string;
  before(async () => {
    hypha = await startHypha(
      merge(
        restExample({
          cors: { allowed_origins: [ORIGIN], allow_credentials: true },
          auth: { jwt_secret: SECRET },
        }),
        ADMIN,
        {
          flow: {
            typed: flow(
              { connector: "api", operation: "POST /typed" },
              { connector: "sse", operation: "broadcast", event: "input.type" },
            ),
            many: flow(
              { connector: "api", operation: "POST /many" },
              {
                connector: "sse",
                operation: "send_to_room",
                target: "input.rooms",
              },
              { transform: { text: "input.text" } },
            ),
          },
        },
      ),
    );
    api = hypha.urls.api.replace(/\/$/, "");
  });
  after(async () => {
    await hypha.stop();
  });

  test("an event name from input longer than 128 bytes is refused with 422 and a reason", async () => {
    const token = await sign({ sub: "42" });
    const sub = await rawSubscribe(hypha.urls.sse, "/events", {
      authorization: `Bearer ${token}`,
    });
    const long = await publish(`${api}/typed`, { type: "e".repeat(10_000) });
    assert.deepEqual(long, {
      status: 422,
      body: {
        error:
          "flow typed: input.type is not a usable event name: it is longer than 128 bytes",
      },
    });
    const fits = "e".repeat(128);
    assert.equal((await publish(`${api}/typed`, { type: fits })).status, 202);
    await sub.waitFor(1);
    assert.deepEqual(sub.events.map((e) => e.event), [fits]);
    sub.close();
  });

  test("a room name longer than a subscriber may join is refused with 422 and a reason; the rooms that fit are served", async () => {
    const token = await sign({ sub: "42", rooms: ["*"] });
    const fits = "r".repeat(128);
    const sub = await rawSubscribe(hypha.urls.sse, `/events?room=${fits}`, {
      authorization: `Bearer ${token}`,
    });
    const long = await publish(`${api}/many`, {
      rooms: [fits, "r".repeat(129)],
      text: "x",
    });
    assert.deepEqual(long, {
      status: 422,
      body: {
        error: `flow many: target input.rooms holds "${
          "r".repeat(32)
        }…", which no subscriber can join: room name is longer than 128 bytes`,
      },
    });
    const single = await publish(`${api}/notify/${"é".repeat(65)}`, {});
    assert.equal(single.status, 422);
    assert.match(
      String(single.body.error),
      /^flow notify_room: target input\.room is "é{32}…", which no subscriber can join: room name is longer than 128 bytes$/,
    );
    const sent = await publish(`${api}/many`, { rooms: [fits], text: "y" });
    assert.equal(sent.status, 202);
    await sub.waitFor(1);
    assert.deepEqual(sub.events.map((e) => e.data), ['{"text":"y"}']);
    sub.close();
  });

  test("an event for many rooms counts the room names in /stats history bytes, not only its small frame", async () => {
    const before = (await adminStats(hypha)).hubs.sse.historyBytes;
    const rooms = Array.from(
      { length: 1000 },
      (_, i) => `${i}`.padStart(128, "r"),
    );
    const sent = await publish(`${api}/many`, { rooms, text: "small" });
    assert.equal(sent.status, 202);
    const grown = (await adminStats(hypha)).hubs.sse.historyBytes - before;
    assert.ok(
      grown >= 1000 * 128,
      `history grew by ${grown} bytes for 128,000 bytes of room names`,
    );
  });

  test("a token whose subject is longer than a user name may be is refused with 401 saying so", async () => {
    const token = await sign({ sub: "u".repeat(129) });
    const response = await fetch(hypha.urls.sse, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(response.status, 401);
    assert.equal(
      (await response.text()).trim(),
      "token claim sub: user name is longer than 128 bytes",
    );
  });

  test("a token with an unknown crit header parameter is refused saying so", async () => {
    const response = await fetch(hypha.urls.sse, {
      headers: { authorization: `Bearer ${await critToken()}` },
    });
    assert.equal(response.status, 401);
    assert.equal(
      (await response.text()).trim(),
      "token has a critical header parameter (crit) that is not supported",
    );
  });

  test("403 for a disallowed origin carries Vary: Origin, also on preflight", async () => {
    const token = await sign({ sub: "42" });
    const get = await fetch(hypha.urls.sse, {
      headers: {
        origin: "https://evil.example",
        authorization: `Bearer ${token}`,
      },
    });
    const preflight = await fetch(hypha.urls.sse, {
      method: "OPTIONS",
      headers: {
        origin: "https://evil.example",
        "access-control-request-method": "GET",
      },
    });
    for (const response of [get, preflight]) {
      assert.equal(response.status, 403);
      assert.equal(response.headers.get("vary"), "Origin");
      assert.equal(response.headers.get("access-control-allow-origin"), null);
      await response.body?.cancel();
    }
  });
});
