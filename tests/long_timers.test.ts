import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  clearLongTimeout,
  MAX_TIMER_MS,
  setLongInterval,
  setLongTimeout,
} from "../src/core/long_timer.ts";
import { rawSubscribe, until } from "./support/clients.ts";
import { type Hypha, publish, RUNTIME, startHypha } from "./support/hypha.ts";
import { SECRET, sign } from "./support/auth.ts";
import { errorOf, SSE } from "./support/config_errors.ts";
import { restExample } from "./support/config_builder.ts";

const YEAR_S = 365 * 24 * 3600;

describe("long timers", () => {
  test("a timeout a year away does not fire before a 50 ms one", async () => {
    const fired: string[] = [];
    const year = setLongTimeout(() => fired.push("year"), YEAR_S * 1000);
    const beyond = setLongInterval(
      () => fired.push("interval"),
      MAX_TIMER_MS + 1,
    );
    await new Promise<void>((resolve) =>
      setLongTimeout(() => {
        fired.push("short");
        resolve();
      }, 50)
    );
    clearLongTimeout(year);
    clearLongTimeout(beyond);
    assert.deepEqual(fired, ["short"]);
  });

  test("a cleared timeout never fires; clearing twice is harmless", async () => {
    const fired: string[] = [];
    const timer = setLongTimeout(() => fired.push("cleared"), 10);
    clearLongTimeout(timer);
    clearLongTimeout(timer);
    await new Promise((resolve) => setLongTimeout(() => resolve(null), 30));
    assert.deepEqual(fired, []);
  });
});

describe("durations a timer cannot or should not hold", () => {
  test("an AMQP heartbeat above 65535s and a request_timeout below 100ms are refused at start", () => {
    assert.equal(
      errorOf(
        `${SSE}[connector.mq]\ntype = "mq"\ndriver = "rabbitmq"\nheartbeat = "720h"\n`,
      ),
      'hypha.toml: connector.mq.heartbeat: at most "65535s" (AMQP holds the heartbeat in 16 bits), got "720h"',
    );
    assert.equal(
      errorOf(`${SSE}request_timeout = "10ms"\n`),
      'hypha.toml: connector.sse.request_timeout: at least "100ms", got "10ms"',
    );
  });
});

/** Opens a stream, lets three heartbeats pass, then expects an event on it. */
async function expectStaysOpen(
  hypha: Hypha,
  headers: Record<string, string> = {},
) {
  const sub = await rawSubscribe(hypha.urls.sse, "/events", headers);
  let closed = false;
  sub.closed.then(() => closed = true);
  await until(
    () => sub.comments.length >= 3 || closed || sub.retries.length > 1,
    "three keepalives or a close",
  );
  // A closing stream sends a second retry hint (the socket may stay open).
  assert.equal(sub.retries.length, 1, "the stream was closed");
  assert.equal(closed, false, "the connection was closed");
  const api = hypha.urls.api.replace(/\/$/, "");
  assert.equal((await publish(`${api}/notify`, { n: 1 })).status, 202);
  await sub.waitFor(1);
  assert.deepEqual(sub.events.map((e) => e.data), ['{"n":1}']);
  // Only the opening retry hint: a closing stream sends a second one.
  assert.equal(sub.retries.length, 1);
  assert.equal(closed, false);
  sub.close();
}

describe(`durations beyond what a timer holds (${RUNTIME})`, () => {
  const started: Hypha[] = [];
  let jwt: Hypha;
  let lifetime: Hypha;
  let heartbeat: Hypha;
  before(async () => {
    [jwt, lifetime, heartbeat] = await Promise.all([
      startHypha(
        restExample({
          heartbeat_interval: "300ms",
          auth: { jwt_secret: SECRET },
        }),
      ),
      startHypha(
        restExample({ heartbeat_interval: "300ms", max_lifetime: "720h" }),
      ),
      startHypha(restExample({ heartbeat_interval: "720h" })),
    ]);
    started.push(jwt, lifetime, heartbeat);
  });
  after(async () => {
    await Promise.all(started.map((h) => h.stop()));
  });

  test("a token whose exp is a year away keeps its stream open", async () => {
    const token = await sign({ sub: "42" }, { exp: YEAR_S });
    await expectStaysOpen(jwt, { authorization: `Bearer ${token}` });
  });

  test('max_lifetime = "720h" keeps streams open', async () => {
    await expectStaysOpen(lifetime);
  });

  test('heartbeat_interval = "720h" (past a 32-bit timer) sends no keepalive while the stream is silent', async () => {
    // 720 h is 2,592,000,000 ms, past the 2^31 - 1 ms a runtime's timer
    // holds: given as is, setInterval would fire every millisecond.
    assert.ok(720 * 3600 * 1000 > 2 ** 31 - 1);
    const sub = await rawSubscribe(heartbeat.urls.sse, "/events");
    // A 300 ms heartbeat beside it: three of its keepalives are time
    // enough for an overflowed timer to have fired hundreds of times.
    const control = await rawSubscribe(lifetime.urls.sse, "/events");
    await until(() => sub.retries.length === 1, "the opening retry hint");
    await until(() => control.comments.length >= 3, "three control keepalives");
    assert.deepEqual(sub.comments, []);
    const api = heartbeat.urls.api.replace(/\/$/, "");
    assert.equal((await publish(`${api}/notify`, { n: 1 })).status, 202);
    await sub.waitFor(1);
    assert.equal((await publish(`${api}/notify`, { n: 2 })).status, 202);
    await sub.waitFor(2);
    assert.deepEqual(sub.comments, []);
    sub.close();
    control.close();
  });
});
