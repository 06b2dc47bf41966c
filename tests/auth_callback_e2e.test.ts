/**
 * Subscribers authorized by the app's own sessions, end to end: hypha (the
 * real entrypoint) asks a real backend (tests/support/app_backend.ts) that
 * knows its sessions by cookie.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type AppBackend, startAppBackend } from "./support/app_backend.ts";
import { SECRET, sign } from "./support/auth.ts";
import { rawRequest, subscribe } from "./support/clients.ts";
import {
  adminUrl,
  type Hypha,
  publish,
  RUNTIME,
  startHypha,
} from "./support/hypha.ts";
import { promtoolCheck, scrape } from "./support/metrics.ts";
import { freePort } from "./support/ports.ts";
import {
  ADMIN,
  type ConfigInput,
  merge,
  restExample,
} from "./support/config_builder.ts";

/** What a client sees of a response; streams are aborted once answered. */
export async function probe(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const body = response.status === 200 ? "" : (await response.text()).trim();
  controller.abort();
  await response.body?.cancel().catch(() => {});
  return {
    status: response.status,
    body,
    headers: Object.fromEntries(response.headers),
  };
}

/** A session id as an app makes them: long, random, secret. */
const newSid = () => crypto.randomUUID().replaceAll("-", "");

/** hypha with JWT verification and the callback of `backend`. */
function config(callback: string, timeout = "1s"): ConfigInput {
  return merge(
    restExample({
      cors: {
        allowed_origins: ["https://app.example.com"],
        allow_credentials: true,
      },
      auth: { jwt_secret: SECRET, callback, timeout },
    }),
    ADMIN,
    { service: { log_level: "debug" } },
  );
}

describe(`auth callback end to end (${RUNTIME})`, () => {
  let app: AppBackend;
  let hypha: Hypha;
  let events: string;
  let api: string;
  /** Every session id handed to hypha; none may appear in its logs. */
  const sids: string[] = [];
  const session = (behaviour: Parameters<AppBackend["sessions"]["set"]>[1]) => {
    const sid = newSid();
    sids.push(sid);
    app.sessions.set(sid, behaviour);
    return sid;
  };
  const cookie = (sid: string) => ({ cookie: `theme=dark; sid=${sid}` });
  const post = (path: string, body: unknown) => publish(`${api}${path}`, body);

  before(async () => {
    app = await startAppBackend();
    hypha = await startHypha(config(app.callback));
    events = hypha.urls.sse;
    api = hypha.urls.api.replace(/\/$/, "");
  });
  after(async () => {
    await hypha.stop();
    await app.close();
  });

  test("a session the app knows receives its user's and rooms' events; the app is told who asks", async () => {
    const sid = session({ user_id: "alice", rooms: ["orders", "team.*"] });
    const alice = subscribe(`${events}?rooms=orders,team.red`, {
      headers: { ...cookie(sid), origin: "https://app.example.com" },
    });
    await alice.opened;
    assert.equal((await post("/notify/orders", { n: 1 })).body.delivered, 1);
    assert.equal((await post("/notify/billing", { n: 2 })).body.delivered, 0);
    assert.equal(
      (await post("/notify/user/alice", { n: 3 })).body.delivered,
      1,
    );
    const seen = await alice.waitFor(2);
    assert.deepEqual(seen.map((e) => JSON.parse(e.data).n), [1, 3]);
    alice.close();
    const call = app.calls.at(-1)!;
    assert.deepEqual(call, {
      connector: "sse",
      headers: { cookie: `theme=dark; sid=${sid}` },
      rooms: ["orders", "team.red"],
      user_id: null,
      origin: "https://app.example.com",
      client_address: "127.0.0.1",
    });
  });

  test("401 and 403 of the app reach the client with the app's reason; no credentials, no call", async () => {
    const calls = app.calls.length;
    const unknown = await probe(events, cookie(newSid()));
    assert.deepEqual([unknown.status, unknown.body], [401, "unknown session"]);
    assert.equal(unknown.headers["www-authenticate"], 'Bearer realm="sse"');
    const banned = session({ status: 403, body: "account suspended" });
    const refused = await probe(events, cookie(banned));
    assert.deepEqual([refused.status, refused.body], [
      403,
      "account suspended",
    ]);
    assert.equal(app.calls.length, calls + 2);
    const bare = await probe(events);
    assert.deepEqual([bare.status, bare.body], [401, "a session is required"]);
    assert.equal(app.calls.length, calls + 2);
  });

  test("a room outside the app's rooms, or another user_id, is refused with 403", async () => {
    const sid = session({ user_id: "alice", rooms: ["orders", "team.*"] });
    for (const room of ["billing", "team", "orders.eu"]) {
      const seen = await probe(`${events}?rooms=orders,${room}`, cookie(sid));
      assert.deepEqual(
        [seen.status, seen.body],
        [403, `room "${room}" is not allowed by the app`],
      );
    }
    const bob = await probe(`${events}?user_id=bob`, cookie(sid));
    assert.deepEqual(
      [bob.status, bob.body],
      [403, 'user_id "bob" is not the session\'s user'],
    );
    assert.equal(
      (await probe(`${events}?user_id=alice`, cookie(sid))).status,
      200,
    );
  });

  test("a valid token does not call back; a token that is not valid leaves the decision to the app", async () => {
    const calls = app.calls.length;
    const jwt = await sign({ sub: "carol", rooms: ["orders"] });
    const byToken = await probe(`${events}?rooms=orders`, {
      authorization: `Bearer ${jwt}`,
    });
    assert.equal(byToken.status, 200);
    assert.equal(app.calls.length, calls);
    const sid = session({ user_id: "dave", rooms: ["orders"] });
    const stale = await sign({ sub: "dave" }, { exp: -60 });
    const byCookie = await probe(`${events}?rooms=orders`, {
      authorization: `Bearer ${stale}`,
      ...cookie(sid),
    });
    assert.equal(byCookie.status, 200);
    assert.equal(app.calls.length, calls + 1);
    assert.equal(app.calls.at(-1)!.headers.authorization, `Bearer ${stale}`);
  });

  test("a stream closes at the session's expires_at; coming back with it is 401", async () => {
    const sid = session({
      user_id: "erin",
      expires_at: Math.floor(Date.now() / 1000) + 2,
    });
    const raw = await rawRequest(
      events,
      `GET /events HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: sid=${sid}\r\n\r\n`,
    );
    await raw.waitFor(/^HTTP\/1\.1 200[\s\S]*retry: \d+\n\n/);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      raw.closed,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`stream still open: ${raw.text()}`)),
          15_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    const body = raw.text().split("\r\n\r\n").slice(1).join("\r\n\r\n");
    assert.equal(body.match(/retry: \d+\n\n/g)?.length, 2, body);
    const again = await probe(events, cookie(sid));
    assert.deepEqual([again.status, again.body], [
      401,
      "the session has expired",
    ]);
  });

  test("an answer too slow, a 5xx, or not the agreed JSON: 503 with Retry-After, never admitted", async () => {
    const cases: [string, Parameters<typeof session>[0]][] = [
      ["slow", { user_id: "frank", delay: 3000 }],
      ["5xx", { status: 500, body: "database down" }],
      ["not JSON", { status: 200, body: "<html>welcome</html>" }],
      ["wrong shape", { status: 200, body: '{"rooms": "orders"}' }],
      ["user_id not a string", { status: 200, body: '{"user_id": 42}' }],
    ];
    for (const [name, behaviour] of cases) {
      const seen = await probe(events, cookie(session(behaviour)));
      assert.equal(seen.status, 503, name);
      assert.equal(seen.body, "authorization is unavailable, retry later");
      assert.equal(seen.headers["retry-after"], "5", name);
    }
    await hypha.waitForLine(/auth callback failed.*failure=timeout/);
    await hypha.waitForLine(/auth callback failed.*failure=status/);
    await hypha.waitForLine(/auth callback failed.*failure=malformed/);
  });

  test("a resuming subscriber is authorized before any replay, and replays only its rooms", async () => {
    const alice = session({ user_id: "alice", rooms: ["orders"] });
    const bob = session({ user_id: "bob", rooms: ["billing"] });
    const live = subscribe(`${events}?rooms=orders`, {
      headers: cookie(alice),
    });
    await live.opened;
    await post("/notify/orders", { n: 1 });
    const [first] = await live.waitFor(1);
    live.close();
    await post("/notify/billing", { n: 2 });
    await post("/notify/orders", { n: 3 });
    const resume = (search: string, headers: Record<string, string>) =>
      probeReplay(
        `${events}${search}`,
        { ...headers, "last-event-id": first.lastEventId },
        () => post("/notify", { n: "sentinel" }),
      );
    assert.deepEqual(await resume("?rooms=orders", cookie(alice)), {
      status: 200,
      ns: [3],
    });
    assert.deepEqual(await resume("?rooms=billing", cookie(bob)), {
      status: 200,
      ns: [2],
    });
    assert.deepEqual(await resume("?rooms=orders", {}), {
      status: 401,
      ns: [],
    });
    assert.deepEqual(await resume("?rooms=billing", cookie(alice)), {
      status: 403,
      ns: [],
    });
  });

  test("metrics count calls, failures and latency; /readyz stays ready", async () => {
    const ready = await fetch(adminUrl(hypha, "/readyz"));
    assert.equal(ready.status, 200);
    await ready.body?.cancel();
    const metrics = await scrape(adminUrl(hypha, "/metrics"));
    const at = (name: string, labels: Record<string, string> = {}) =>
      metrics.value(name, { connector: "sse", ...labels }) ?? -1;
    assert.ok(
      at("hypha_auth_callback_calls_total", { result: "granted" }) >= 5,
    );
    assert.ok(
      at("hypha_auth_callback_calls_total", { result: "refused" }) >= 2,
    );
    assert.ok(at("hypha_auth_callback_calls_total", { result: "failed" }) >= 5);
    for (
      const [reason, n] of [["timeout", 1], ["status", 1], ["malformed", 3]]
    ) {
      assert.ok(
        at("hypha_auth_callback_failures_total", { reason: String(reason) }) >=
          Number(n),
        String(reason),
      );
    }
    assert.equal(
      at("hypha_auth_callback_failures_total", { reason: "unreachable" }),
      0,
    );
    assert.ok(at("hypha_auth_callback_seconds_count") >= 12);
    assert.ok(
      at("hypha_auth_callback_lookups_total", { source: "cache" }) >= 1,
    );
    assert.equal(at("hypha_auth_callback_busy_total"), 0);
    await promtoolCheck(metrics.text);
  });

  test("no log line holds a session cookie or a forwarded header", () => {
    assert.ok(sids.length >= 10, `only ${sids.length} sessions were used`);
    const log = hypha.lines.join("\n");
    assert.match(log, /auth callback failed/);
    for (const sid of sids) {
      assert.ok(!log.includes(sid), `the log contains session ${sid}`);
    }
    assert.ok(!log.includes("theme=dark"));
  });
});

describe(`auth callback down (${RUNTIME})`, () => {
  test("callback down: 503 for sessions, token holders served, /readyz ready, failure counted and logged without the cookie", async () => {
    const dead = `http://127.0.0.1:${await freePort()}/sse-auth`;
    const hypha = await startHypha(config(dead));
    try {
      const sid = newSid();
      for (let i = 0; i < 3; i++) {
        const seen = await probe(hypha.urls.sse, { cookie: `sid=${sid}` });
        assert.deepEqual(
          [seen.status, seen.body, seen.headers["retry-after"]],
          [503, "authorization is unavailable, retry later", "5"],
        );
      }
      const jwt = await sign({ sub: "grace" });
      const byToken = await probe(hypha.urls.sse, {
        authorization: `Bearer ${jwt}`,
      });
      assert.equal(byToken.status, 200);
      const ready = await fetch(adminUrl(hypha, "/readyz"));
      assert.equal(ready.status, 200);
      await ready.body?.cancel();
      const metrics = await scrape(adminUrl(hypha, "/metrics"));
      assert.equal(
        metrics.value("hypha_auth_callback_failures_total", {
          connector: "sse",
          reason: "unreachable",
        }),
        3,
      );
      const line = await hypha.waitForLine(
        /WARN\s+auth callback failed.*failure=unreachable/,
      );
      assert.ok(!hypha.lines.join("\n").includes(sid), line);
      // Rate-limited: one line for the three failures within 10 s.
      assert.equal(
        hypha.lines.filter((l) => /auth callback failed/.test(l)).length,
        1,
      );
    } finally {
      await hypha.stop();
    }
  });
});

/**
 * Opens a stream and reads it up to the broadcast `sentinel()` publishes
 * once the stream is open (it comes after any replay); returns the `n` of
 * each event before it.
 */
async function probeReplay(
  url: string,
  headers: Record<string, string>,
  sentinel: () => Promise<unknown>,
): Promise<{ status: number; ns: number[] }> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  if (response.status !== 200) {
    await response.body?.cancel();
    return { status: response.status, ns: [] };
  }
  await sentinel();
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes(`"sentinel"`)) {
    const read = await reader.read();
    if (read.done) break;
    text += decoder.decode(read.value, { stream: true });
  }
  controller.abort();
  await reader.cancel().catch(() => {});
  const ns = [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]))
    .filter((data) => data.n !== "sentinel").map((data) => data.n);
  return { status: 200, ns };
}
