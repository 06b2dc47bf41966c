/**
 * The cluster's promise under every fault an operator meets, one after the
 * other, with clients reconnecting round-robin through a balancer: a
 * rolling restart, kill -9 of one instance, the stream deleted under the
 * running instances, and the broker stopped for 30 s. Per client, every
 * confirmed event of its room arrives once, in order, or is covered by an
 * explicit `gap`; an event has the same id on every instance. The broker is
 * a node of the test's own (the shared one stays up); the run is heavy, so
 * it is not a `*.test.ts` file: scripts/test.sh runs it alone, on each
 * runtime (the instances are two of the runner's runtime and one of the
 * other).
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import { subscribe, type Subscriber, until } from "../support/clients.ts";
import { portOf, startBalancer } from "../support/balancer.ts";
import {
  clusterNames,
  clusterStats,
  startInstance,
} from "../support/cluster.ts";
import {
  assertPromiseKept,
  type Load,
  numbersOf,
  roomOf,
  startLoad,
} from "../support/cluster_load.ts";
import { type Hypha, RUNTIME } from "../support/hypha.ts";
import {
  type SecondBroker,
  startSecondBroker,
} from "../support/second_broker.ts";

const CLIENTS = 200;
const ROOMS = 20;
const OTHER = RUNTIME === "deno" ? "bun" : "deno";
const RUNTIMES = [RUNTIME, RUNTIME, OTHER] as const;
/** 4 publishers x 10 events every 250 ms: ~160 events/s. */
const LOAD = { rooms: ROOMS, batch: 10, periodMs: 250 };
const OUTAGE_MS = 30_000;

describe(`the cluster's promise under faults (${RUNTIME} and ${OTHER} instances)`, () => {
  test("rolling restart, kill -9, stream deleted, broker stopped 30 s, 200 clients: every confirmed event once or covered by a gap, same ids everywhere", async () => {
    const names = clusterNames();
    const broker: SecondBroker = await startSecondBroker();
    const instances: Hypha[] = [];
    const balancer = await startBalancer([]);
    const clients: Subscriber[] = [];
    const live = new Set<Hypha>();
    let load: Load | undefined;
    let brokerDown = false;
    const route = () =>
      balancer.setBackends([...live].map((h) => portOf(h.urls.sse)));
    const progress = async (more: number, timeoutMs = 60_000) => {
      const target = load!.count() + more;
      await until(() => load!.count() >= target, `${target} events`, timeoutMs);
    };
    try {
      for (const runtime of RUNTIMES) {
        const h = await startInstance(names, runtime, {}, broker.url);
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
      load = startLoad(() => [...live], LOAD);
      await until(
        () => clients.every((c) => c.events.length > 0),
        "first events",
        60_000,
      );

      // A rolling restart of one instance of each runtime.
      for (const i of [0, 2]) {
        live.delete(instances[i]);
        route();
        await instances[i].stop();
        instances[i] = await startInstance(names, RUNTIMES[i], {}, broker.url);
        live.add(instances[i]);
        route();
        await progress(300);
      }

      // kill -9.
      live.delete(instances[1]);
      route();
      await instances[1].stop("SIGKILL");
      await progress(300);
      instances[1] = await startInstance(names, RUNTIMES[1], {}, broker.url);
      live.add(instances[1]);
      route();
      await progress(300);

      // The stream deleted under the running instances.
      const admin = new AMQPClient(broker.url, undefined, null);
      await admin.connect();
      await (await admin.channel()).queueDelete(names.stream);
      await admin.close();
      await progress(300);

      // The broker away for 30 s.
      await broker.ctl("stop_app");
      brokerDown = true;
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      await broker.ctl("start_app");
      brokerDown = false;
      await progress(300, 120_000);

      await load.stop();
      // Unconfirmed publishes may be there too; the confirmed ones must,
      // or a gap must say they may be missing.
      await until(
        () => {
          try {
            assertPromiseKept(clients, load!, ROOMS, true);
            return true;
          } catch {
            return false;
          }
        },
        "every client to have its room's confirmed events or a gap",
        60_000,
      ).catch(() => {});
      const { gaps, covered } = assertPromiseKept(clients, load, ROOMS, true);
      // An instance whose backoff grew during the outage attaches later.
      for (const h of instances) {
        const deadline = Date.now() + 90_000;
        while (!(await clusterStats(h)).attached) {
          assert.ok(Date.now() < deadline, "every instance attaches again");
          await new Promise((r) => setTimeout(r, 500));
        }
        assert.equal(h.lines.some((l) => /uncaught|panic/i.test(l)), false);
      }
      const received = clients.reduce((n, c) => n + numbersOf(c).length, 0);
      console.log(
        `(${load.count()} events confirmed, ~${load.rate()}/s; ${received} deliveries; ${gaps} gaps covering ${covered} missed deliveries)`,
      );
    } finally {
      await load?.stop();
      if (brokerDown) await broker.ctl("start_app").catch(() => {});
      for (const c of clients) c.close();
      await Promise.all(instances.map((h) => h.stop()));
      await balancer.close();
      await broker.stop();
    }
  });
});
