/**
 * Presence on one instance, on the runtime under test: exact counts under
 * 1,000 connects and leaves, the REST presence API, lifecycle events sent by
 * a flow to an admin room, occupied/vacated once, and join/leave events.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  rawSubscribe,
  type RawSubscriber,
  sleep,
  subscribe,
  until,
} from "./support/clients.ts";
import { adminStats, type Hypha, startHypha } from "./support/hypha.ts";
import {
  ADMIN,
  type ConfigInput,
  flow,
  merge,
  rest,
  REST_FLOWS,
  sse,
} from "./support/config_builder.ts";

const CONFIG = merge<ConfigInput>({
  service: { shutdown_spread: "200ms" },
  connector: {
    sse: sse({
      heartbeat_interval: "2s",
      retry: "200ms",
      presence: {
        members: true,
        max_members: 3,
        vacate_after: "1s",
        join_leave: true,
      },
    }),
    api: rest(),
  },
  flow: {
    notify: REST_FLOWS.notify_room,
    dashboard: flow({ connector: "sse" }, {
      connector: "sse",
      operation: "send_to_room",
      target: "admin",
      event: "meta.operation",
    }, { filter: "!has(input.rooms) || !('admin' in input.rooms)" }),
  },
}, ADMIN);

/** Asks until the answer is `expected`; fails with the last answer. */
async function settles(
  ask: () => Promise<unknown>,
  expected: unknown,
  what: string,
): Promise<void> {
  let seen: unknown;
  for (let tries = 0; tries < 200; tries++) {
    seen = await ask();
    if (JSON.stringify(seen) === JSON.stringify(expected)) return;
    await sleep(50);
  }
  assert.deepEqual(seen, expected, what);
}

const LIFECYCLE = [
  "connected",
  "disconnected",
  "room_occupied",
  "room_vacated",
];

// workers = 2: connections on two delivery threads, counted in one presence.
for (const workers of [1, 2]) {
  describe(`presence on one instance (workers = ${workers})`, () => {
    let hypha: Hypha;
    before(async () => {
      hypha = await startHypha(
        merge(CONFIG, { service: { workers } }),
      );
    });
    after(async () => {
      await hypha.stop();
    });

    // deno-lint-ignore no-explicit-any
    const ask = async (path: string): Promise<any> => {
      const response = await fetch(new URL(path, hypha.urls.api));
      assert.equal(response.status, 200, await response.clone().text());
      return await response.json();
    };

    test("counts are exact under 1,000 connects and leaves", async () => {
      // Room r<i % 10>, plus "all"; every fifth connection is anonymous;
      // users u0..u99 hold several connections each.
      const clients: RawSubscriber[] = [];
      const userOf = (i: number) => i % 5 === 0 ? undefined : `u${i % 100}`;
      const open = (i: number) =>
        rawSubscribe(
          hypha.urls.sse,
          `/events?rooms=r${i % 10},all${
            userOf(i) === undefined ? "" : `&user_id=${userOf(i)}`
          }`,
        );
      for (let i = 0; i < 1000; i += 100) {
        clients.push(
          ...await Promise.all(
            Array.from({ length: 100 }, (_, k) => open(i + k)),
          ),
        );
      }
      const expected = (open: (i: number) => boolean) => {
        const rooms = new Map<string, { c: number; u: Set<string> }>();
        for (let i = 0; i < 1000; i++) {
          if (!open(i)) continue;
          for (const room of [`r${i % 10}`, "all"]) {
            const e = rooms.get(room) ?? { c: 0, u: new Set() };
            e.c++;
            if (userOf(i) !== undefined) e.u.add(userOf(i)!);
            rooms.set(room, e);
          }
        }
        return [...rooms].sort(([a], [b]) => a < b ? -1 : 1).map((
          [room, e],
        ) => ({ room, connections: e.c, users: e.u.size }));
      };
      const all = async () => {
        const first = await ask("/presence/rooms?limit=5");
        const rest = await ask(
          `/presence/rooms?limit=1000&after=${first.next}`,
        );
        return [...first.rooms, ...rest.rooms];
      };
      await until(() => clients.every((c) => c.head() !== ""), "1,000 streams");
      assert.deepEqual(await all(), expected(() => true));

      const u1 = await ask("/presence/users/u1");
      // u1 holds connections 1, 101, ..., 901: rooms r1 and all.
      assert.deepEqual(u1, {
        user_id: "u1",
        connections: 10,
        rooms: ["all", "r1"],
      });
      const r1 = await ask("/presence/rooms/r1");
      assert.equal(r1.members.length, 3);
      assert.equal(r1.members_truncated, true);

      // The odd ones leave.
      for (let i = 1; i < 1000; i += 2) clients[i].close();
      await Promise.all(
        clients.filter((_, i) => i % 2 === 1).map((c) => c.closed),
      );
      const evenOpen = expected((i) => i % 2 === 0);
      await settles(all, evenOpen, "the counts of the 500 left");
      assert.deepEqual(await ask("/presence/users/u1"), {
        user_id: "u1",
        connections: 0,
        rooms: [],
      });

      for (let i = 0; i < 1000; i += 2) clients[i].close();
      await Promise.all(clients.map((c) => c.closed));
      await settles(all, [], "no room left");
      const stats = await adminStats(hypha);
      assert.equal(stats.hubs.sse.presence.connections, 0);
    });

    test("a dashboard room hears connected, disconnected, occupied and vacated once", async () => {
      const dashboard = subscribe(`${hypha.urls.sse}?room=admin`, {
        types: LIFECYCLE,
      });
      await dashboard.opened;
      const events = () =>
        dashboard.events.map((e) => ({ type: e.type, ...JSON.parse(e.data) }))
          .filter((e) => e.room === "lobby" || e.rooms?.includes("lobby"));

      const first = subscribe(`${hypha.urls.sse}?room=lobby&user_id=alice`);
      await first.opened;
      await until(() => events().length === 2, "connected and occupied");
      first.close();
      // Back at once, within vacate_after: the room is not vacated.
      const second = subscribe(`${hypha.urls.sse}?room=lobby&user_id=alice`);
      await second.opened;
      await until(() => events().length === 4, "disconnected and connected");
      second.close();
      await until(() => events().length === 6, "disconnected and vacated");
      await sleep(1500);
      const seen = events();
      assert.deepEqual(seen.map((e) => e.type).sort(), [
        "connected",
        "connected",
        "disconnected",
        "disconnected",
        "room_occupied",
        "room_vacated",
      ]);
      const connected = seen.find((e) => e.type === "connected");
      assert.equal(connected.user_id, "alice");
      assert.deepEqual(connected.rooms, ["lobby"]);
      assert.match(connected.connection_id, /^hypha-[0-9a-f]{8}\/\d+$/);
      assert.match(connected.time, /^\d{4}-\d\d-\d\dT/);
      const left = seen.find((e) => e.type === "disconnected");
      assert.equal(left.reason, "client_left");
      const vacated = seen.find((e) => e.type === "room_vacated");
      assert.equal(vacated.room, "lobby");
      assert.equal(vacated.connections, 0);
      dashboard.close();
    });

    test("join and leave reach the room's subscribers; anonymous ones are not told", async () => {
      const bob = subscribe(`${hypha.urls.sse}?room=hall&user_id=bob`, {
        types: ["join", "leave"],
      });
      await bob.opened;
      const alice = subscribe(`${hypha.urls.sse}?room=hall&user_id=alice`);
      await alice.opened;
      const anonymous = subscribe(`${hypha.urls.sse}?room=hall`);
      await anonymous.opened;
      alice.close();
      await until(
        () => bob.events.some((e) => e.type === "leave"),
        "alice's leave",
      );
      assert.deepEqual(
        bob.events.map((e) => [e.type, JSON.parse(e.data)]),
        [["join", { user_id: "bob" }], ["join", { user_id: "alice" }], [
          "leave",
          { user_id: "alice" },
        ]],
      );
      bob.close();
      anonymous.close();
    });
  });
}
