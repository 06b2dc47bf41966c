/**
 * Presence and the lifecycle source in process: a storm of 10,000 connects
 * while the lifecycle's target is away keeps delivering events, holds at most
 * `queue_size` lifecycle events (the rest are dropped and counted), and
 * sends what it kept once the target is back. Counts stay exact.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LogUnavailableError } from "../src/cluster/unavailable.ts";
import { compileFlow } from "../src/core/flows/flows.ts";
import { hubTarget } from "../src/core/flows/target.ts";
import type { Hub, Subscriber } from "../src/core/hub/hub.ts";
import { createLogger } from "../src/core/log.ts";
import { ownerOf } from "../src/presence/occupancy.ts";
import { createRemotePresence } from "../src/presence/remote.ts";
import { parseSnapshot } from "../src/presence/snapshot.ts";
import { createPresence } from "../src/presence/tracker.ts";
import { createLifecycleSource } from "../src/sources/lifecycle.ts";
import { until } from "./support/clients.ts";
import { delivered, testHub } from "./support/hub.ts";

describe("presence in process", () => {
  test("a storm of 10,000 connects with the lifecycle target away: delivery goes on, the queue stays bounded, drops are counted", async () => {
    const lines: string[] = [];
    const log = createLogger((line) => lines.push(line), "debug");
    const presence = createPresence({
      connector: "sse",
      instance: "test",
      vacateAfterMs: 1000,
      maxMembers: undefined,
      joinLeave: false,
      log,
    });
    const hub = testHub({ watcher: presence.watcher });
    let away = true;
    // The dashboard's target answers "unavailable" until it is back.
    const target: Hub = {
      ...hub,
      publish: (...args) => {
        if (away) throw new LogUnavailableError("test: target away");
        return hub.publish(...args);
      },
    };
    const lifecycle = createLifecycleSource("sse", {
      flows: [{
        operation: "connected",
        flow: compileFlow({
          name: "dashboard",
          to: hubTarget(target, "send_to_room"),
          target: "admin",
        }),
      }],
      log,
    }, { queueSize: 1000, retryMs: 20 });
    presence.attach(hub, lifecycle);
    await lifecycle.start();

    const subscribers: Subscriber[] = [];
    for (let i = 0; i < 10_000; i++) {
      subscribers.push(hub.subscribe({
        rooms: new Set([`r${i % 100}`]),
        userId: `u${i % 5000}`,
      }));
    }
    // Delivery is not held up by the lifecycle's backlog.
    assert.equal(
      delivered(hub.publish({ kind: "room", names: ["r1"] }, "m", "{}")),
      100,
    );
    assert.deepEqual(presence.view.room("r1"), {
      room: "r1",
      connections: 100,
      users: 50,
    });
    const stats = lifecycle.stats();
    assert.equal(stats.received, 10_000);
    assert.equal(stats.rejected.dropped, 9_000);
    assert.equal(stats.queued, 1_000);

    const dashboard = hub.subscribe({
      rooms: new Set(["admin"]),
      userId: undefined,
    });
    const before = hub.stats().deliveries;
    away = false;
    await until(() => lifecycle.stats().queued === 0, "the queue drained");
    // The 1,000 kept events; the dashboard's own connect found it full.
    assert.equal(hub.stats().deliveries - before, 1_000);
    assert.equal(lifecycle.stats().delivered, 1_000);
    assert.equal(lifecycle.stats().rejected.dropped, 9_001);

    for (const s of subscribers) s.disconnect();
    dashboard.disconnect();
    assert.deepEqual(presence.view.list(10, undefined), {
      rooms: [],
      next: null,
    });
    hub.close(0);
    await presence.stop();
    await lifecycle.stop();
  });

  test("remote contributions add up, and a silent instance is forgotten", () => {
    const remote = createRemotePresence();
    const snapshot = (instance: string, rooms: [string, number, string[]][]) =>
      parseSnapshot(JSON.stringify({
        instance,
        rooms,
        users: rooms.flatMap(([, , ids]) => ids.map((id) => [id, 1])),
      }))!;
    assert.deepEqual(
      remote.apply(snapshot("a", [["lobby", 2, ["x", "y"]]]), 0),
      ["lobby"],
    );
    assert.deepEqual(
      remote.apply(snapshot("b", [["lobby", 1, ["x"]]]), 500),
      [],
    );
    assert.equal(remote.rooms.get("lobby")?.connections, 3);
    assert.equal(remote.rooms.get("lobby")?.users.size, 2);
    // a is silent past the expiry; b was heard since.
    assert.deepEqual(remote.expire(8_200, 8_000), []);
    assert.equal(remote.rooms.get("lobby")?.connections, 1);
    assert.deepEqual(remote.expire(8_600, 8_000), ["lobby"]);
    assert.equal(remote.rooms.size, 0);
    assert.equal(remote.users.size, 0);
  });

  test("a malformed snapshot is refused; a room's owner is the same for every order of instances", () => {
    assert.equal(parseSnapshot("{"), undefined);
    assert.equal(
      parseSnapshot('{"instance":"a","rooms":[["r",-1,[]]],"users":[]}'),
      undefined,
    );
    const ids = ["a", "b", "c"];
    for (const room of ["lobby", "croom", "admin", "x"]) {
      const owner = ownerOf(room, ids);
      assert.equal(ownerOf(room, [...ids].reverse()), owner);
      assert.ok(ids.includes(owner));
    }
  });
});
