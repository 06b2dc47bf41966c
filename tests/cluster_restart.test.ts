import { test } from "node:test";
import { subscribe, type Subscriber, until } from "./support/clients.ts";
import { portOf, startBalancer } from "./support/balancer.ts";
import {
  cleanupCluster,
  clusterNames,
  startInstance,
} from "./support/cluster.ts";
import {
  assertPromiseKept,
  type Load,
  numbersOf,
  roomOf,
  startLoad,
} from "./support/cluster_load.ts";
import type { Hypha } from "./support/hypha.ts";
import { onceOnBun } from "./support/once.ts";

/** Bun's fetch runs at most 256 requests at once; leave room for publishers. */
const CLIENTS = 240;
const ROOMS = 20;
const RUNTIMES = ["deno", "deno", "bun"] as const;
/** 4 publishers x 25 events every 250 ms: ~400 events/s. */
const LOAD = { rooms: ROOMS, batch: 25, periodMs: 250 };

// Deno, Deno and Bun whichever runner: the same scenario under both.
onceOnBun.describe("cluster restarts under load", () => {
  test("rolling restart of every instance, then kill -9 of one, while clients reconnect round-robin: every event once, in order, no gap", async () => {
    const names = clusterNames();
    const instances: Hypha[] = [];
    const balancer = await startBalancer([]);
    const clients: Subscriber[] = [];
    let publisher: Load | undefined;
    const live = new Set<Hypha>();
    const route = () =>
      balancer.setBackends([...live].map((h) => portOf(h.urls.sse)));
    try {
      for (const runtime of RUNTIMES) {
        const h = await startInstance(names, runtime);
        instances.push(h);
        live.add(h);
      }
      route();
      for (let i = 0; i < CLIENTS; i++) {
        clients.push(
          subscribe(balancer.url(`/events?room=${roomOf(i, ROOMS)}`), {
            types: ["gap"],
          }),
        );
      }
      await Promise.all(clients.map((c) => c.opened));
      publisher = startLoad(() => [...live], LOAD);
      const { confirmed, count } = publisher;
      // Every client has an id to resume from before anything restarts.
      await until(
        () => clients.every((c) => c.events.length > 0),
        "first events",
        60_000,
      );
      const progress = async (more: number) => {
        const target = count() + more;
        await until(
          () => count() >= target,
          `${target} events`,
          60_000,
        );
      };

      for (const [i, runtime] of RUNTIMES.entries()) {
        live.delete(instances[i]);
        route();
        await instances[i].stop();
        instances[i] = await startInstance(names, runtime);
        live.add(instances[i]);
        route();
        await progress(1500);
      }

      live.delete(instances[1]);
      await instances[1].stop("SIGKILL");
      route();
      await progress(1500);
      instances[1] = await startInstance(names, RUNTIMES[1]);
      live.add(instances[1]);
      route();
      await progress(1500);

      await publisher.stop();
      const rate = publisher.rate();
      // Unconfirmed publishes may be there too; the confirmed ones must.
      const hasAll = (c: Subscriber, i: number) => {
        const have = new Set(numbersOf(c));
        return [...(confirmed.get(roomOf(i, ROOMS))?.keys() ?? [])].every((
          n,
        ) => have.has(n));
      };
      await until(
        () => clients.every(hasAll),
        `every client has the ${count()} confirmed events of its room`,
        60_000,
      );
      assertPromiseKept(clients, publisher, ROOMS, false);
      console.log(
        `(${count()} events confirmed, ~${rate}/s, ${CLIENTS} clients in ${ROOMS} rooms)`,
      );
    } finally {
      await publisher?.stop();
      for (const c of clients) c.close();
      await Promise.all(instances.map((h) => h.stop()));
      await balancer.close();
      await cleanupCluster(names);
    }
  });
});
