import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { subscribe, type Subscriber, until } from "./support/clients.ts";
import { portOf, startBalancer } from "./support/balancer.ts";
import {
  cleanupCluster,
  clusterNames,
  startInstance,
} from "./support/cluster.ts";
import { type Hypha, RUNTIME } from "./support/hypha.ts";

const CLIENTS = 200;
const RUNTIMES = ["deno", "deno", "bun"] as const;

/** Publishers side by side; each sends its own increasing n. */
const PUBLISHERS = 4;
const SPAN = 1_000_000;

/**
 * Publishes `{ n }` from PUBLISHERS loops, each one request after the
 * other (n = p * SPAN + k), round-robin over live instances.
 */
function startPublisher(live: () => readonly Hypha[]) {
  const confirmed: number[] = [];
  let running = true;
  const loop = async (p: number) => {
    for (let k = 1; running; k++) {
      const n = p * SPAN + k;
      const targets = live();
      const target = targets[(p + k) % targets.length];
      try {
        const response = await fetch(new URL("/notify", target.urls.api), {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ n }),
        });
        await response.body?.cancel();
        if (response.status === 202) confirmed.push(n);
      } catch {
        // The instance went away mid-request: this n's fate is unknown.
      }
    }
  };
  const started = Date.now();
  const done = Promise.all(
    Array.from({ length: PUBLISHERS }, (_, p) => loop(p)),
  );
  return {
    confirmed,
    rate: () => Math.round(confirmed.length / ((Date.now() - started) / 1000)),
    async stop() {
      running = false;
      await done;
    },
  };
}

const numbersOf = (c: Subscriber) =>
  c.events.filter((e) => e.type === "message").map((e) =>
    JSON.parse(e.data).n as number
  );

/** Every client: no gap, strictly increasing, every confirmed event. */
function assertComplete(clients: readonly Subscriber[], confirmed: number[]) {
  for (const [i, c] of clients.entries()) {
    const gaps = c.events.filter((e) => e.type === "gap");
    assert.deepEqual(gaps, [], `client ${i} got a gap`);
    const got = numbersOf(c);
    // Each publisher's events in the order it sent them, none twice.
    for (let p = 0; p < PUBLISHERS; p++) {
      const mine = got.filter((n) => Math.floor(n / SPAN) === p);
      for (let k = 1; k < mine.length; k++) {
        assert.ok(
          mine[k] > mine[k - 1],
          `client ${i}: ${mine[k - 1]} then ${mine[k]}`,
        );
      }
    }
    const have = new Set(got);
    const missing = confirmed.filter((n) => !have.has(n));
    assert.deepEqual(missing, [], `client ${i} missed events`);
  }
}

describe(`cluster restarts under load (${RUNTIME} tests)`, () => {
  test("rolling restart of every instance, then kill -9 of one, while clients reconnect round-robin: every event once, in order, no gap", async () => {
    const names = clusterNames();
    const instances: Hypha[] = [];
    const balancer = await startBalancer([]);
    const clients: Subscriber[] = [];
    let publisher: ReturnType<typeof startPublisher> | undefined;
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
        clients.push(subscribe(balancer.url("/events"), { types: ["gap"] }));
      }
      await Promise.all(clients.map((c) => c.opened));
      publisher = startPublisher(() => [...live]);
      const { confirmed } = publisher;
      // Every client has an id to resume from before anything restarts.
      await until(
        () => clients.every((c) => c.events.length > 0),
        "first events",
        60_000,
      );
      const progress = async (more: number) => {
        const target = confirmed.length + more;
        await until(
          () => confirmed.length >= target,
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
        await progress(300);
      }

      live.delete(instances[1]);
      await instances[1].stop("SIGKILL");
      route();
      await progress(300);
      instances[1] = await startInstance(names, RUNTIMES[1]);
      live.add(instances[1]);
      route();
      await progress(300);

      await publisher.stop();
      const rate = publisher.rate();
      // Unconfirmed publishes may be there too; the confirmed ones must.
      const hasAll = (c: Subscriber) => {
        const have = new Set(numbersOf(c));
        return confirmed.every((n) => have.has(n));
      };
      await until(
        () => clients.every(hasAll),
        `every client has the ${confirmed.length} confirmed events`,
        60_000,
      );
      assertComplete(clients, confirmed);
      console.log(
        `(${confirmed.length} events confirmed, ~${rate}/s, ${CLIENTS} clients)`,
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
