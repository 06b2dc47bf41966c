/**
 * The broker itself stopped and started (`rabbitmqctl stop_app` /
 * `start_app`) under a publishing cluster. It takes the shared broker away
 * from every other test, so it is not a `*.test.ts` file: scripts/test.sh
 * runs it after both suites, alone.
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { test } from "node:test";
import { type Received, subscribe, until } from "../support/clients.ts";
import {
  cleanupCluster,
  clusterNames,
  clusterStats,
  startInstance,
} from "../support/cluster.ts";
import { type Hypha, publish } from "../support/hypha.ts";
import { onceOnDeno } from "../support/once.ts";
import { waitForNumbers } from "../support/rabbitmq.ts";

const exec = promisify(execFile);
const rabbitmqctl = (...args: string[]) =>
  exec("rabbitmqctl", args, { timeout: 120_000 });

const numbers = (events: readonly Received[]) =>
  events.filter((e) => e.type === "message").map((e) =>
    JSON.parse(e.data).n as number
  );

// A Deno and a Bun instance whichever runner.
onceOnDeno.describe("cluster across a broker restart", () => {
  test("broker stopped and started under publishing: clients stay connected, REST answers 503 meanwhile, nothing confirmed lost or doubled", async () => {
    const names = clusterNames();
    const instances: Hypha[] = [];
    let stopped = false;
    let publishing = true;
    try {
      // The stream must outlive the broker's restart: it is durable; the
      // test's input queue is not, and is not used here.
      instances.push(await startInstance(names, "deno"));
      instances.push(await startInstance(names, "bun"));
      const clients = instances.map((h) =>
        subscribe(h.urls.sse, { types: ["gap"] })
      );
      await Promise.all(clients.map((c) => c.opened));

      const confirmed: number[] = [];
      const answers = new Map<number, number>();
      const publisher = (async () => {
        for (let n = 1; publishing; n++) {
          const target = instances[n % 2];
          let status = 0;
          try {
            const answer = await publish(
              new URL("/notify", target.urls.api).href,
              { n },
            );
            status = answer.status;
          } catch {
            // A request the instance could not answer: fate unknown.
          }
          answers.set(status, (answers.get(status) ?? 0) + 1);
          if (status === 202) confirmed.push(n);
          // Refused or not: pace the loop so an outage is not a busy loop.
          if (status !== 202) await new Promise((r) => setTimeout(r, 50));
        }
      })();

      await until(() => confirmed.length >= 100, "publishing", 30_000);
      await rabbitmqctl("stop_app");
      stopped = true;
      const before = confirmed.length;
      await until(() => (answers.get(503) ?? 0) >= 5, "503s", 30_000);
      clients.forEach((c, i) => {
        // Seen once in CI, not reproduced: say which instance and what it
        // logged (a stream ended by the server, or an instance that died).
        assert.equal(
          c.source.readyState,
          c.source.OPEN,
          `the client of instance ${i} is reconnecting; its log:\n${
            instances[i].lines.slice(-40).join("\n")
          }`,
        );
      });
      await rabbitmqctl("start_app");
      stopped = false;
      await until(
        () => confirmed.length >= before + 100,
        "publishing after the restart",
        90_000,
      );
      publishing = false;
      await publisher;

      const last = confirmed[confirmed.length - 1];
      for (const c of clients) {
        await waitForNumbers(c, [last], 30_000);
        assert.deepEqual(c.events.filter((e) => e.type === "gap"), []);
        const got = numbers(c.events);
        // In order, none twice; every confirmed event is there.
        assert.deepEqual(got, [...got].sort((x, y) => x - y));
        assert.equal(new Set(got).size, got.length);
        const have = new Set(got);
        assert.deepEqual(confirmed.filter((n) => !have.has(n)), []);
      }
      assert.deepEqual(
        clients[0].events.map((e) => e.lastEventId),
        clients[1].events.map((e) => e.lastEventId),
      );
      for (const h of instances) assert.ok((await clusterStats(h)).attached);
      console.log(
        `(${confirmed.length} confirmed; answers ${
          JSON.stringify(Object.fromEntries(answers))
        })`,
      );
      for (const c of clients) c.close();
    } finally {
      publishing = false;
      if (stopped) await rabbitmqctl("start_app");
      await rabbitmqctl("await_startup").catch(() => {});
      await Promise.all(instances.map((h) => h.stop()));
      await cleanupCluster(names);
    }
  });
});
