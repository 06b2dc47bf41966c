import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { subscribe, until } from "./support/clients.ts";
import {
  cleanupCluster,
  clusterNames,
  publishN,
  startInstance,
} from "./support/cluster.ts";
import { type Hypha, RUNTIME } from "./support/hypha.ts";
import { onceOnDeno } from "./support/once.ts";
import { range } from "./support/rabbitmq.ts";
import { AMQPClient } from "@cloudamqp/amqp-client";
import { RABBITMQ_URL } from "./support/rabbitmq.ts";

const exec = promisify(execFile);
const gapOf = (data: string) => JSON.parse(data) as Record<string, string>;

/** Publishes `{ n, padding }` for each n: ~350 bytes of stream each. */
async function publishPadded(instance: Hypha, ns: readonly number[]) {
  const padding = "x".repeat(300);
  for (const n of ns) {
    await fetch(new URL("/notify", instance.urls.api), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ n, padding }),
    }).then((r) => r.body?.cancel());
  }
}

/** Resumes from `first`: the first event must be gap expired, id `last`. */
async function resumeExpired(instance: Hypha, first: string, last: string) {
  const resumed = subscribe(instance.urls.sse, {
    types: ["gap"],
    headers: { "last-event-id": first },
  });
  await resumed.waitFor(1);
  assert.equal(resumed.events[0].type, "gap");
  assert.equal(gapOf(resumed.events[0].data).reason, "expired");
  assert.equal(resumed.events[0].lastEventId, last);
  return resumed;
}

describe(`cluster retention (${RUNTIME})`, () => {
  test("a resume from an offset retention dropped gets gap expired, then live", async () => {
    const names = clusterNames();
    let instance: Hypha | undefined;
    try {
      // 16 KiB of stream in 4 KiB segments; a local cache of 2 events.
      instance = await startInstance(
        names,
        RUNTIME,
        { size: 2, max_bytes: "16KiB" },
      );
      const first = await publishN(instance, 1);
      await publishPadded(instance, range(2, 200));
      const last = await publishN(instance, 201);
      const resumed = await resumeExpired(instance, first, last);
      await publishN(instance, 202);
      await resumed.waitFor(2);
      assert.equal(JSON.parse(resumed.events[1].data).n, 202);
      resumed.close();
    } finally {
      await instance?.stop();
      await cleanupCluster(names);
    }
  });

  test("ttl: events older than x-max-age are dropped as segments roll over; their resume gets gap expired", async () => {
    const names = clusterNames();
    let instance: Hypha | undefined;
    try {
      // Segments of 8 KiB; the size bound is far from reached: only age drops.
      instance = await startInstance(
        names,
        RUNTIME,
        { size: 2, ttl: "1s", max_bytes: "64KiB" },
      );
      const { stdout } = await exec("rabbitmqctl", [
        "list_queues",
        "-q",
        "--no-table-headers",
        "name",
        "arguments",
      ]);
      const line = stdout.split("\n").find((l) => l.startsWith(names.stream));
      assert.match(line ?? "", /x-max-age.*1s/);
      const first = await publishN(instance, 1);
      // The broker drops a segment once its newest record is older than
      // x-max-age, when a later segment rolls over: write ~9 KiB (more
      // than a segment) three times, 1.5 s apart.
      for (const round of range(0, 2)) {
        await new Promise((r) => setTimeout(r, 1_500));
        await publishPadded(instance, range(2 + round * 30, 31 + round * 30));
      }
      const last = await publishN(instance, 100);
      const resumed = await resumeExpired(instance, first, last);
      resumed.close();
    } finally {
      await instance?.stop();
      await cleanupCluster(names);
    }
  });

  // A Deno and a Bun instance whichever runner.
  onceOnDeno.test("a stream deleted while instances run: they attach to the new one, live clients go on, an old id gets a gap", async () => {
    const names = clusterNames();
    const instances: Hypha[] = [];
    try {
      instances.push(await startInstance(names, "deno"));
      instances.push(await startInstance(names, "bun"));
      const live = instances.map((h) =>
        subscribe(h.urls.sse, { types: ["gap"] })
      );
      await Promise.all(live.map((c) => c.opened));
      const old = await publishN(instances[0], 1);
      await publishN(instances[1], 2);
      for (const c of live) await c.waitFor(2);

      const client = new AMQPClient(RABBITMQ_URL, undefined, null);
      await client.connect();
      await (await client.channel()).queueDelete(names.stream);
      await client.close();
      for (const h of instances) {
        await until(
          () =>
            h.lines.filter((l) => /cluster log attached/.test(l)).length >= 2,
          "attached again",
        );
      }
      const fresh: string[] = [];
      for (const n of range(3, 5)) {
        fresh.push(await publishN(instances[n % 2], n));
      }
      for (const c of live) {
        // What the old stream held past this instance's tail is gone: a gap
        // says so, then the new stream's events follow from its start.
        await c.waitFor(6);
        assert.equal(c.events[2].type, "gap");
        assert.equal(gapOf(c.events[2].data).reason, "unknown");
        const events = c.events.filter((e) => e.type === "message");
        assert.deepEqual(events.map((e) => JSON.parse(e.data).n), range(1, 5));
        assert.deepEqual(events.slice(2).map((e) => e.lastEventId), fresh);
      }
      assert.notEqual(fresh[0].split("-")[0], old.split("-")[0]);
      const resumed = subscribe(instances[1].urls.sse, {
        types: ["gap"],
        headers: { "last-event-id": old },
      });
      await resumed.waitFor(1);
      assert.equal(gapOf(resumed.events[0].data).reason, "unknown");
      const caughtUp = subscribe(instances[1].urls.sse, {
        types: ["gap"],
        headers: { "last-event-id": fresh[0] },
      });
      await caughtUp.waitFor(2);
      assert.deepEqual(
        caughtUp.events.map((e) => e.lastEventId),
        fresh.slice(1),
      );
      for (const c of [...live, resumed, caughtUp]) c.close();
    } finally {
      await Promise.all(instances.map((h) => h.stop()));
      await cleanupCluster(names);
    }
  });

  test("an id from a stream that was deleted and recreated gets a gap, never other events", async () => {
    const names = clusterNames();
    let instance: Hypha | undefined;
    try {
      instance = await startInstance(names, RUNTIME);
      const old = await publishN(instance, 1);
      await publishN(instance, 2);
      await instance.stop();
      const client = new AMQPClient(RABBITMQ_URL, undefined, null);
      await client.connect();
      await (await client.channel()).queueDelete(names.stream);
      await client.close();

      instance = await startInstance(names, RUNTIME);
      for (const n of range(3, 5)) await publishN(instance, n);
      const resumed = subscribe(instance.urls.sse, {
        types: ["gap"],
        headers: { "last-event-id": old },
      });
      await resumed.waitFor(1);
      assert.equal(resumed.events[0].type, "gap");
      assert.equal(gapOf(resumed.events[0].data).reason, "unknown");
      await publishN(instance, 6);
      await resumed.waitFor(2);
      assert.deepEqual(
        resumed.events.slice(1).map((e) => JSON.parse(e.data).n),
        [6],
      );
      resumed.close();
    } finally {
      await instance?.stop();
      await cleanupCluster(names);
    }
  });
});
