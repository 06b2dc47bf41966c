import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { subscribe } from "./support/clients.ts";
import {
  cleanupCluster,
  clusterNames,
  clusterStats,
  publishN,
  startInstance,
} from "./support/cluster.ts";
import { adminStats, type Hypha, RUNTIME } from "./support/hypha.ts";
import { freePort } from "./support/ports.ts";

const gapOf = (data: string) => JSON.parse(data) as Record<string, string>;

describe(`the cluster's promise under odd resumes (${RUNTIME})`, () => {
  test("a Last-Event-ID on an instance that has seen no event yet resumes the client and keeps the instance attached", async () => {
    const names = clusterNames();
    let instance: Hypha | undefined;
    try {
      instance = await startInstance(names, RUNTIME);
      const epoch = (await adminStats(instance)).hubs.sse.cluster.epoch;
      const resumed = [0, 1].map((offset) =>
        subscribe(instance!.urls.sse, {
          types: ["gap"],
          headers: { "last-event-id": `${epoch}-${offset}` },
        })
      );
      await Promise.all(resumed.map((c) => c.opened));
      const id = await publishN(instance, 1);
      for (const c of resumed) {
        const [event] = await c.waitFor(1);
        assert.deepEqual(event, {
          type: "message",
          data: '{"n":1}',
          lastEventId: id,
        });
      }
      assert.equal((await clusterStats(instance)).attached, true);
      await publishN(instance, 2);
      for (const c of resumed) {
        await c.waitFor(2);
        assert.deepEqual(c.events.map((e) => e.type), ["message", "message"]);
        c.close();
      }
    } finally {
      await instance?.stop();
      await cleanupCluster(names);
    }
  });

  test("an instance that has not attached yet answers a resuming client 503 with Retry-After, logs it, and serves new clients", async () => {
    const names = clusterNames();
    // Nothing listens there: the broker stays away for the whole test.
    const away = `amqp://guest:guest@127.0.0.1:${await freePort()}`;
    let instance: Hypha | undefined;
    try {
      instance = await startInstance(names, RUNTIME, {}, away);
      const resume = await fetch(instance.urls.sse, {
        headers: { "last-event-id": "abc123-42" },
      });
      assert.equal(resume.status, 503);
      assert.equal(resume.headers.get("retry-after"), "5");
      assert.match(await resume.text(), /event log unavailable/);
      await instance.waitForLine(
        /refused resuming subscribers: the cluster log is not attached/,
      );
      const fresh = await fetch(instance.urls.sse);
      assert.equal(fresh.status, 200);
      assert.equal(fresh.headers.get("content-type"), "text/event-stream");
      await fresh.body?.cancel();
      assert.equal(
        instance.lines.filter((l) => /uncaught|internal error/i.test(l)).length,
        0,
      );
      // Not ready, and the log says so rather than "ready".
      assert.ok(
        instance.lines.some((l) =>
          /WARN\s+not ready yet.*sse: cluster log not attached/.test(l)
        ),
      );
      assert.equal(instance.lines.some((l) => /INFO\s+ready/.test(l)), false);
    } finally {
      await instance?.stop();
      await cleanupCluster(names);
    }
  });

  test("ids at the stream's start and past its end: the first replays from the cache, the second gets gap unknown, neither reads the stream", async () => {
    const names = clusterNames();
    let instance: Hypha | undefined;
    try {
      instance = await startInstance(names, RUNTIME);
      const epoch = (await adminStats(instance)).hubs.sse.cluster.epoch;
      const first = await publishN(instance, 1);
      const resumed = subscribe(instance.urls.sse, {
        types: ["gap"],
        // An offset the stream never had, far below anything it could hold.
        headers: { "last-event-id": `${epoch}-0` },
      });
      await resumed.waitFor(1);
      assert.equal(resumed.events[0].lastEventId, first);
      const forged = subscribe(instance.urls.sse, {
        types: ["gap"],
        headers: { "last-event-id": `${epoch}-999999999999` },
      });
      const [gap] = await forged.waitFor(1);
      assert.equal(gap.type, "gap");
      assert.equal(gapOf(gap.data).reason, "unknown");
      assert.equal((await clusterStats(instance)).stream_reads, 0);
      resumed.close();
      forged.close();
    } finally {
      await instance?.stop();
      await cleanupCluster(names);
    }
  });
});
