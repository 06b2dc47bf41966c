/**
 * The auth callback with a cluster store: two instances share a RabbitMQ
 * stream; a subscriber authorized by the app on one receives events
 * published on the other, and resumes on the other instance authorized
 * the same way before the stream replays (only its rooms).
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startAppBackend } from "./support/app_backend.ts";
import { subscribe } from "./support/clients.ts";
import {
  cleanupCluster,
  clusterConfig,
  clusterNames,
  publishN,
} from "./support/cluster.ts";
import { type Hypha, RUNTIME, startHypha } from "./support/hypha.ts";
import { merge } from "./support/config_builder.ts";

describe(`auth callback with a cluster store (${RUNTIME})`, () => {
  test("a session's subscriber is served across instances and resumes from the stream with only its rooms", async () => {
    const app = await startAppBackend();
    const sid = crypto.randomUUID();
    app.sessions.set(sid, { user_id: "alice", rooms: ["orders"] });
    const names = clusterNames();
    const auth = { connector: { sse: { auth: { callback: app.callback } } } };
    const instances: Hypha[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        instances.push(await startHypha(merge(clusterConfig(names), auth)));
      }
      const [a, b] = instances;
      const cookie = { cookie: `sid=${sid}` };
      const live = subscribe(`${b.urls.sse}?rooms=orders`, { headers: cookie });
      await live.opened;
      await publishN(a, 1, "/notify/orders");
      const [first] = await live.waitFor(1);
      live.close();
      await publishN(a, 2, "/notify/billing");
      await publishN(a, 3, "/notify/orders");

      const resumed = subscribe(`${a.urls.sse}?rooms=orders`, {
        headers: { ...cookie, "last-event-id": first.lastEventId },
      });
      await resumed.opened;
      await publishN(b, 4, "/notify/orders");
      const replayed = await resumed.waitFor(2);
      resumed.close();
      assert.deepEqual(replayed.map((e) => JSON.parse(e.data).n), [3, 4]);

      const stranger = await fetch(`${a.urls.sse}?rooms=orders`, {
        headers: { "last-event-id": first.lastEventId },
      });
      assert.equal(stranger.status, 401);
      assert.equal(await stranger.text(), "a session is required\n");
      // One call per instance: each keeps its own cache.
      assert.equal(app.callsFor(sid), 2);
    } finally {
      await Promise.all(instances.map((h) => h.stop()));
      await cleanupCluster(names);
      await app.close();
    }
  });
});
