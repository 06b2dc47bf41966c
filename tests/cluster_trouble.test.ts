import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Received, subscribe, until } from "./support/clients.ts";
import {
  cleanupCluster,
  clusterConfig,
  clusterNames,
  clusterStats,
  publishN,
  startInstance,
} from "./support/cluster.ts";
import {
  adminStats,
  adminUrl,
  type Hypha,
  publish,
  RUNTIME,
  startHypha,
} from "./support/hypha.ts";
import { promtoolCheck, scrape } from "./support/metrics.ts";
import { onceOnBun } from "./support/once.ts";
import {
  closeConnection,
  connectBroker,
  eventually,
  freePort,
  queueCounts,
  range,
  startBrokerProxy,
  waitForNumbers,
} from "./support/rabbitmq.ts";
import { merge, rabbit } from "./support/config_builder.ts";

const SSE = { connector: "sse" };
const numbers = (events: readonly Received[]) =>
  events.map((e) => JSON.parse(e.data).n as number);

describe(`cluster under broker trouble (${RUNTIME})`, () => {
  test("broker unreachable: clients stay connected, REST answers 503 with Retry-After; back: the missed events once, in order", async () => {
    const names = clusterNames();
    const port = await freePort();
    let proxy = await startBrokerProxy(port);
    const instances: Hypha[] = [];
    try {
      const far = await startInstance(
        names,
        RUNTIME,
        {},
        `amqp://guest:guest@127.0.0.1:${port}`,
      );
      instances.push(far);
      const near = await startInstance(names, RUNTIME);
      instances.push(near);
      const client = subscribe(far.urls.sse, { types: ["gap"] });
      await client.opened;
      for (const n of range(1, 3)) await publishN(near, n);
      await waitForNumbers(client, [3]);

      const before = await scrape(adminUrl(far, "/metrics"));
      await promtoolCheck(before.text);
      assert.equal(before.value("hypha_cluster_attached", SSE), 1);
      assert.ok(before.value("hypha_cluster_tail_offset", SSE)! >= 3);
      assert.equal(before.value("hypha_cluster_pending_appends", SSE), 0);
      assert.equal(before.value("hypha_cluster_stream_reads_total", SSE), 0);
      assert.equal((await fetch(adminUrl(far, "/readyz"))).status, 200);

      await proxy.close();
      await far.waitForLine(/cluster log (detached|retrying)/);
      await far.waitForLine(/WARN\s+not ready .*sse: cluster log not attached/);
      const away = await scrape(adminUrl(far, "/metrics"));
      assert.equal(away.value("hypha_cluster_attached", SSE), 0);
      const unready = await fetch(adminUrl(far, "/readyz"));
      assert.equal(unready.status, 503);
      assert.match(await unready.text(), /sse: cluster log not attached/);
      const refused = await fetch(new URL("/notify", far.urls.api), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ n: 0 }),
      });
      assert.equal(refused.status, 503);
      assert.match(refused.headers.get("retry-after") ?? "", /^\d+$/);
      await refused.body?.cancel();
      const batch = await publish(new URL("/notify", far.urls.api).href, [
        { n: 0 },
        { n: 0 },
      ]);
      assert.equal(batch.status, 503);
      assert.deepEqual(
        (batch.body.results as { error: string }[]).map((r) => r.error),
        ["unavailable", "unavailable"],
      );
      for (const n of range(4, 6)) await publishN(near, n);
      assert.equal(client.source.readyState, client.source.OPEN);

      proxy = await startBrokerProxy(port);
      await until(() => numbers(client.events).includes(6), "events 4-6");
      // Told again once it is back, as /readyz answers.
      await until(
        () => far.lines.filter((l) => /INFO\s+ready/.test(l)).length >= 2,
        "a second ready line",
      );
      await publishN(far, 7);
      await waitForNumbers(client, [7]);
      assert.deepEqual(numbers(client.events), range(1, 7));
      assert.equal((await fetch(adminUrl(far, "/readyz"))).status, 200);
      assert.ok(client.events.every((e) => e.type === "message"));
      client.close();
    } finally {
      await Promise.all(instances.map((h) => h.stop()));
      await proxy.close();
      await cleanupCluster(names);
    }
  });

  test("stream unreachable while the input queue is not: RabbitMQ input stays in its queue, then each message becomes one event", async () => {
    const names = clusterNames();
    const port = await freePort();
    let proxy = await startBrokerProxy(port);
    const broker = await connectBroker();
    let instance: Hypha | undefined;
    try {
      // The input comes straight from the broker; the stream through a proxy.
      const config = merge(clusterConfig(names, { store: "log" }), {
        connector: {
          log: rabbit({
            url: `amqp://guest:guest@127.0.0.1:${port}`,
            connection_name: names.connection,
            reconnect_delay: "200ms",
          }),
        },
      });
      const h = instance = await startHypha(config, {}, RUNTIME);
      const client = subscribe(h.urls.sse, { types: ["gap"] });
      await client.opened;
      await broker.publish(names.exchange, "feed.item", { n: 1 });
      await waitForNumbers(client, [1]);

      await proxy.close();
      await h.waitForLine(/cluster log (detached|retrying)/);
      for (const n of range(2, 4)) {
        await broker.publish(names.exchange, "feed.item", { n });
      }
      // Taken, refused by the log, nacked back: in the queue, not lost.
      await eventually("input nacked back", async () => {
        const counts = await queueCounts(names.queue);
        const { rejected } = (await adminStats(h)).sources.rabbit;
        return counts !== undefined && counts.ready + counts.unacked === 3 &&
          rejected.unavailable > 0;
      });
      assert.deepEqual(numbers(client.events), [1]);

      proxy = await startBrokerProxy(port);
      await waitForNumbers(client, [2, 3, 4]);
      await eventually("input acked", async () => {
        const counts = await queueCounts(names.queue);
        return counts?.ready === 0 && counts.unacked === 0;
      });
      const got = numbers(client.events);
      assert.deepEqual([...got].sort((a, b) => a - b), range(1, 4));
      client.close();
    } finally {
      await instance?.stop();
      await proxy.close();
      await broker.cleanup({});
      await cleanupCluster(names);
    }
  });

  // A Deno and a Bun instance whichever runner.
  onceOnBun.test("the log's connection closed by the broker under load: nothing confirmed is lost or doubled", async () => {
    const names = clusterNames();
    const instances: Hypha[] = [];
    try {
      instances.push(await startInstance(names, "deno"));
      instances.push(await startInstance(names, "bun"));
      const [a, b] = instances;
      const clients = [subscribe(a.urls.sse), subscribe(b.urls.sse)];
      await Promise.all(clients.map((c) => c.opened));

      const confirmed: number[] = [];
      let refused = 0;
      let publishing = true;
      const publisher = (async () => {
        for (let n = 1; publishing; n++) {
          const answer = await publish(new URL("/notify", a.urls.api).href, {
            n,
          });
          if (answer.status === 202) confirmed.push(n);
          else if (answer.status === 503) refused++;
          else throw new Error(`publish ${n}: ${answer.status}`);
        }
      })();
      for (let cut = 0; cut < 2; cut++) {
        await until(() => confirmed.length >= 50 * (cut + 1), "publishing");
        await closeConnection(`${names.connection}.stream.sse`);
        await until(
          () =>
            a.lines.filter((l) => /cluster log attached/.test(l)).length >=
              cut + 2,
          "re-attach",
        );
      }
      await until(() => confirmed.length >= 150, "publishing after cuts");
      publishing = false;
      await publisher;
      const last = confirmed[confirmed.length - 1];
      for (const c of clients) {
        await waitForNumbers(c, [last]);
        const got = numbers(c.events);
        // In order, none twice; every confirmed event is there.
        assert.deepEqual(got, [...got].sort((x, y) => x - y));
        assert.equal(new Set(got).size, got.length);
        for (const n of confirmed) assert.ok(got.includes(n), `event ${n}`);
      }
      assert.deepEqual(
        clients[0].events.map((e) => e.lastEventId),
        clients[1].events.map((e) => e.lastEventId),
      );
      assert.ok((await clusterStats(a)).attached);
      console.log(`(${refused} publishes answered 503 during the cuts)`);
      for (const c of clients) c.close();
    } finally {
      await Promise.all(instances.map((h) => h.stop()));
      await cleanupCluster(names);
    }
  });
});
