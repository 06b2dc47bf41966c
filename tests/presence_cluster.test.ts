/**
 * Presence across a cluster of three instances (Deno, Bun, and the tests'
 * runtime) sharing one RabbitMQ stream: counts and member lists are
 * cluster-wide, occupied/vacated fire once for the cluster, and an instance
 * killed with SIGKILL stops counting and its emptied rooms are vacated once.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  rawSubscribe,
  type RawSubscriber,
  sleep,
  subscribe,
  until,
} from "./support/clients.ts";
import {
  cleanupCluster,
  clusterConfig,
  clusterNames,
} from "./support/cluster.ts";
import {
  adminStats,
  type Hypha,
  RUNTIME,
  startHypha,
} from "./support/hypha.ts";
import { type ConfigPart, flow, merge } from "./support/config_builder.ts";

/** Presence, and a flow telling room changes to the admin room. */
const PRESENCE: ConfigPart = {
  connector: { sse: { presence: { members: true, vacate_after: "1s" } } },
  flow: {
    dashboard: flow({ connector: "sse" }, {
      connector: "sse",
      operation: "send_to_room",
      target: "admin",
      event: "meta.operation",
    }),
  },
};

// deno-lint-ignore no-explicit-any
async function ask(instance: Hypha, path: string): Promise<any> {
  const response = await fetch(new URL(path, instance.urls.api));
  assert.equal(response.status, 200);
  return await response.json();
}

/** Asks until the answer holds `expected`; fails with the last answer. */
async function settles(
  instance: Hypha,
  path: string,
  expected: Record<string, unknown>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    seen = await ask(instance, path);
    const picked = Object.fromEntries(
      Object.keys(expected).map((k) => [k, seen[k]]),
    );
    if (JSON.stringify(picked) === JSON.stringify(expected)) return;
    await sleep(100);
  }
  assert.fail(`${what}: got ${JSON.stringify(seen)}`);
}

describe(`presence in a cluster (${RUNTIME} tests)`, () => {
  test("three instances count together, announce rooms once, and forget a killed one", async () => {
    const names = clusterNames();
    const instances: Hypha[] = [];
    const clients: RawSubscriber[] = [];
    try {
      for (const runtime of ["deno", "bun", RUNTIME] as const) {
        instances.push(
          await startHypha(merge(clusterConfig(names), PRESENCE), {}, runtime),
        );
      }
      const [a, b, c] = instances;
      // Each instance owns rooms once it has heard the two others.
      for (const h of instances) {
        for (let tries = 0;; tries++) {
          const p = (await adminStats(h)).hubs.sse.presence;
          if (p.instances === 3 && p.warm === 1) break;
          assert.ok(
            tries < 200,
            `instance never saw the cluster: ${JSON.stringify(p)}`,
          );
          await sleep(100);
        }
      }
      const dashboard = subscribe(`${a.urls.sse}?room=admin`, {
        types: ["room_occupied", "room_vacated"],
      });
      await dashboard.opened;
      const open = async (h: Hypha, query: string) => {
        const client = await rawSubscribe(h.urls.sse, `/events?${query}`);
        clients.push(client);
        await until(() => client.head() !== "", "the stream");
        return client;
      };
      await open(a, "room=lobby&user_id=alice");
      await open(a, "room=lobby&user_id=alice");
      await open(b, "room=lobby&user_id=bob");
      await open(c, "room=lobby&user_id=erin");
      await open(c, "room=croom&user_id=carol");
      await open(c, "room=croom&user_id=dave");
      await open(c, "room=croom");

      for (const h of instances) {
        await settles(h, "/presence/rooms/lobby", {
          connections: 4,
          users: 3,
        }, "lobby everywhere");
        await settles(h, "/presence/rooms/croom", {
          connections: 3,
          users: 2,
        }, "croom everywhere");
      }
      const lobby = await ask(b, "/presence/rooms/lobby");
      assert.deepEqual([...lobby.members].sort(), ["alice", "bob", "erin"]);
      assert.deepEqual(await ask(b, "/presence/users/carol"), {
        user_id: "carol",
        connections: 1,
        rooms: ["croom"],
      });

      // SIGKILL: c sends no goodbye; the others expire it.
      await c.stop("SIGKILL");
      instances.pop();
      for (const h of [a, b]) {
        await settles(h, "/presence/rooms/croom", {
          connections: 0,
          users: 0,
        }, "croom forgotten");
        await settles(h, "/presence/rooms/lobby", {
          connections: 3,
          users: 2,
        }, "lobby without erin");
      }
      const rooms = () =>
        dashboard.events.map((e) => `${e.type} ${JSON.parse(e.data).room}`)
          .filter((e) => !e.endsWith(" admin"));
      await until(
        () => rooms().includes("room_vacated croom"),
        "croom vacated",
      );
      // Time for a duplicate to show, if one were coming.
      await sleep(3000);
      assert.deepEqual(rooms().sort(), [
        "room_occupied croom",
        "room_occupied lobby",
        "room_vacated croom",
      ]);
      dashboard.close();
    } finally {
      for (const client of clients) client.close();
      await Promise.all(instances.map((h) => h.stop()));
      await cleanupCluster(names);
    }
  });
});
