import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { subscribe, type Subscriber, until } from "./support/clients.ts";
import { portOf, startBalancer } from "./support/balancer.ts";
import {
  cleanupCluster,
  clusterNames,
  startInstance,
} from "./support/cluster.ts";
import { type Hypha, publish, RUNTIME } from "./support/hypha.ts";

/** Bun's fetch runs at most 256 requests at once; leave room for publishers. */
const CLIENTS = 240;
const ROOMS = 20;
const RUNTIMES = ["deno", "deno", "bun"] as const;

/** Publishers side by side; each sends its own increasing n. */
const PUBLISHERS = 4;
const SPAN = 1_000_000;
/** Each publisher posts a batch of BATCH events every PERIOD_MS: ~400/s. */
const BATCH = 25;
const PERIOD_MS = 250;

const roomOf = (i: number) => `r${i % ROOMS}`;

/**
 * Publishes batches of `{ n }` to one room at a time from PUBLISHERS loops
 * (n = p * SPAN + k), round-robin over live instances; records per room the
 * n whose append was confirmed (an element answered with an id).
 */
function startPublisher(live: () => readonly Hypha[]) {
  const confirmed = new Map<string, number[]>();
  let count = 0;
  let running = true;
  const loop = async (p: number) => {
    let next = Date.now();
    for (let b = 0, k = 0; running; b++) {
      const room = roomOf(p + b);
      const ns = Array.from({ length: BATCH }, () => p * SPAN + ++k);
      const targets = live();
      const target = targets[(p + b) % targets.length];
      try {
        const answer = await publish(
          new URL(`/notify/${room}`, target.urls.api).href,
          ns.map((n) => ({ n })),
        );
        const results = (answer.body.results ?? []) as { id?: string }[];
        const mine = confirmed.get(room) ?? [];
        confirmed.set(room, mine);
        for (const [i, r] of results.entries()) {
          if (r.id === undefined) continue;
          mine.push(ns[i]);
          count++;
        }
      } catch {
        // The instance went away mid-request: these n's fate is unknown.
      }
      next += PERIOD_MS;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
  };
  const started = Date.now();
  const done = Promise.all(
    Array.from({ length: PUBLISHERS }, (_, p) => loop(p)),
  );
  return {
    confirmed,
    count: () => count,
    rate: () => Math.round(count / ((Date.now() - started) / 1000)),
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

/**
 * Every client: no gap; each publisher's events strictly increasing (in
 * order, none twice); every confirmed event of its room; none of others.
 */
function assertComplete(
  clients: readonly Subscriber[],
  confirmed: ReadonlyMap<string, number[]>,
) {
  const rooms = new Map<number, string>();
  for (const [room, ns] of confirmed) for (const n of ns) rooms.set(n, room);
  for (const [i, c] of clients.entries()) {
    const gaps = c.events.filter((e) => e.type === "gap");
    assert.deepEqual(gaps, [], `client ${i} got a gap`);
    const got = numbersOf(c);
    for (let p = 0; p < PUBLISHERS; p++) {
      const mine = got.filter((n) => Math.floor(n / SPAN) === p);
      for (let k = 1; k < mine.length; k++) {
        assert.ok(
          mine[k] > mine[k - 1],
          `client ${i}: ${mine[k - 1]} then ${mine[k]}`,
        );
      }
    }
    const foreign = got.filter((n) =>
      (rooms.get(n) ?? roomOf(i)) !== roomOf(i)
    );
    assert.deepEqual(foreign, [], `client ${i} got other rooms' events`);
    const have = new Set(got);
    const missing = (confirmed.get(roomOf(i)) ?? []).filter((n) =>
      !have.has(n)
    );
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
        clients.push(
          subscribe(balancer.url(`/events?room=${roomOf(i)}`), {
            types: ["gap"],
          }),
        );
      }
      await Promise.all(clients.map((c) => c.opened));
      publisher = startPublisher(() => [...live]);
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
        return (confirmed.get(roomOf(i)) ?? []).every((n) => have.has(n));
      };
      await until(
        () => clients.every(hasAll),
        `every client has the ${count()} confirmed events of its room`,
        60_000,
      );
      assertComplete(clients, confirmed);
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
