/**
 * A reconnect storm must not reach the app: 5,000 subscribers with 500
 * distinct sessions arrive at once, and the backend counts the calls.
 *
 * Each subscriber is a raw HTTP request closed right after the response
 * head: 5,000 open SSE streams (and 5,000 EventSource clients in the test
 * process) are more than this test needs to show what the app sees, on a
 * shared 2-core machine.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startAppBackend } from "./support/app_backend.ts";
import { rawRequest } from "./support/clients.ts";
import { adminUrl, RUNTIME, startHypha } from "./support/hypha.ts";
import { scrape } from "./support/metrics.ts";
import { ADMIN, merge, restExample } from "./support/config_builder.ts";

const CLIENTS = 5000;
const SESSIONS = 500;

/** Status of `GET /events?rooms=orders` with session `sid`; then hangs up. */
async function connect(events: string, sid: string): Promise<number> {
  const raw = await rawRequest(
    events,
    `GET /events?rooms=orders HTTP/1.1\r\nHost: x\r\nCookie: sid=${sid}\r\n\r\n`,
  );
  try {
    const head = await raw.waitFor(/^HTTP\/1\.1 \d{3}/, 120_000);
    return Number(head.slice(9, 12));
  } finally {
    raw.close();
  }
}

/** Every client at once; the count of each status. */
async function storm(
  events: string,
  sids: readonly string[],
): Promise<Record<number, number>> {
  const statuses = await Promise.all(
    Array.from(
      { length: CLIENTS },
      (_, i) => connect(events, sids[i % SESSIONS]),
    ),
  );
  const counts: Record<number, number> = {};
  for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
}

describe(`auth callback storm (${RUNTIME})`, () => {
  test("5,000 clients of 500 sessions arriving at once cost the app at most 500 calls, and none when they come back", async () => {
    const app = await startAppBackend();
    const sids = Array.from(
      { length: SESSIONS },
      () => crypto.randomUUID().replaceAll("-", ""),
    );
    for (const [i, sid] of sids.entries()) {
      app.sessions.set(sid, { user_id: `u${i}`, rooms: ["orders"] });
    }
    // A timeout far above the calls' time, so a busy machine cannot turn
    // the storm into 503s; max_inflight stays at its default of 64.
    const hypha = await startHypha(
      merge(
        restExample({ auth: { callback: app.callback, timeout: "30s" } }),
        ADMIN,
      ),
    );
    try {
      const events = hypha.urls.sse;
      assert.deepEqual(await storm(events, sids), { 200: CLIENTS });
      assert.ok(app.calls.length <= SESSIONS, `${app.calls.length} calls`);
      assert.ok(sids.every((sid) => app.callsFor(sid) === 1));

      // Reconnecting within cache_ttl: every answer is in the cache.
      assert.deepEqual(await storm(events, sids), { 200: CLIENTS });
      assert.equal(app.calls.length, SESSIONS);

      const metrics = await scrape(adminUrl(hypha, "/metrics"));
      const lookups = (source: string) =>
        metrics.value("hypha_auth_callback_lookups_total", {
          connector: "sse",
          source,
        }) ?? 0;
      assert.equal(lookups("call"), SESSIONS);
      assert.equal(
        lookups("cache") + lookups("shared"),
        2 * CLIENTS - SESSIONS,
      );
      console.log(
        `storm (${RUNTIME}): ${app.calls.length} calls for ${
          2 * CLIENTS
        } subscribers; ${lookups("shared")} shared a call in flight, ${
          lookups("cache")
        } found the answer cached`,
      );
    } finally {
      await hypha.stop();
      await app.close();
    }
  });
});
