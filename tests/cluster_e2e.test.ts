import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Received, subscribe } from "./support/clients.ts";
import {
  cleanupCluster,
  clusterNames,
  clusterStats,
  publishN,
  startInstance,
} from "./support/cluster.ts";
import { type Hypha, publish, RUNTIME } from "./support/hypha.ts";
import { onceOnBun } from "./support/once.ts";
import { connectBroker, range, waitForNumbers } from "./support/rabbitmq.ts";

const numbers = (events: readonly Received[]) =>
  events.map((e) => JSON.parse(e.data).n as number);
const pairs = (events: readonly Received[]) =>
  events.map((e) => `${e.lastEventId} ${e.data}`);

describe(`cluster on a RabbitMQ stream (${RUNTIME} tests)`, () => {
  // Deno, Deno and Bun whichever runner: the same scenario under both.
  onceOnBun.test("three instances (Deno, Deno, Bun): REST and RabbitMQ events reach every client on every instance once, with the same ids", async () => {
    const names = clusterNames();
    const instances: Hypha[] = [];
    const broker = await connectBroker();
    try {
      for (const runtime of ["deno", "deno", "bun"] as const) {
        instances.push(await startInstance(names, runtime));
      }
      const everyone = instances.flatMap((h) => [
        subscribe(h.urls.sse),
        subscribe(h.urls.sse),
      ]);
      const orders = instances.map((h) =>
        subscribe(`${h.urls.sse}?room=orders`)
      );
      await Promise.all([...everyone, ...orders].map((c) => c.opened));

      const restIds = new Map<number, string>();
      for (const n of range(1, 5)) {
        restIds.set(n, await publishN(instances[n % 3], n));
      }
      for (const n of range(6, 10)) {
        await broker.publish(names.exchange, "feed.item", { n });
      }
      await broker.publish(names.exchange, "room.event", {
        room: "orders",
        n: 11,
      });
      await publishN(instances[0], 12, "/notify/orders");

      const all = range(1, 10);
      for (const c of everyone) {
        await waitForNumbers(c, all);
        assert.deepEqual(numbers(c.events).sort((a, b) => a - b), all);
      }
      for (const c of orders) {
        await waitForNumbers(c, [...all, 11, 12]);
        assert.equal(c.events.length, 12);
      }
      // The same events in the same order with the same ids everywhere.
      for (const c of everyone) {
        assert.deepEqual(pairs(c.events), pairs(everyone[0].events));
      }
      for (const c of orders) {
        assert.deepEqual(pairs(c.events), pairs(orders[0].events));
      }
      // The id REST answered is the id clients see.
      for (const [n, id] of restIds) {
        const seen = everyone[0].events.find((e) => JSON.parse(e.data).n === n);
        assert.equal(seen?.lastEventId, id);
      }
      assert.match(restIds.get(1)!, /^[0-9a-z]+-\d+$/);
      for (const c of [...everyone, ...orders]) c.close();
    } finally {
      await Promise.all(instances.map((h) => h.stop()));
      await broker.cleanup({});
      await cleanupCluster(names);
    }
  });

  // workers = 2: the resuming instances serve on two delivery threads,
  // which ask the main thread's stream log.
  for (const workers of [1, 2]) {
    test(`a client resumes on another instance with Last-Event-ID: exactly the missed events, then live; also on an instance started later (workers = ${workers})`, async () => {
      const names = clusterNames();
      const instances: Hypha[] = [];
      try {
        instances.push(await startInstance(names, "deno"));
        instances.push(
          await startInstance(names, "bun", {}, undefined, workers),
        );
        const [a, b] = instances;
        const first = subscribe(a.urls.sse, { types: ["gap"] });
        await first.opened;
        for (const n of range(1, 5)) await publishN(a, n);
        await first.waitFor(5);
        first.close();
        for (const n of range(6, 10)) await publishN(b, n);

        const resumed = subscribe(b.urls.sse, {
          types: ["gap"],
          headers: { "last-event-id": first.events[4].lastEventId },
        });
        await resumed.waitFor(5);
        await publishN(a, 11);
        await resumed.waitFor(6);
        assert.deepEqual(numbers(resumed.events), range(6, 11));
        assert.ok(resumed.events.every((e) => e.type === "message"));

        // An instance started after the events, with a tiny local cache:
        // the resume is read back from the stream.
        const late = await startInstance(
          names,
          RUNTIME,
          { size: 2 },
          undefined,
          workers,
        );
        instances.push(late);
        for (const n of range(12, 15)) await publishN(late, n);
        const fromStream = subscribe(late.urls.sse, {
          types: ["gap"],
          headers: { "last-event-id": first.events[1].lastEventId },
        });
        await fromStream.waitFor(13);
        assert.deepEqual(numbers(fromStream.events), range(3, 15));
        assert.deepEqual(
          pairs(fromStream.events).slice(0, 9),
          pairs([...first.events.slice(2), ...resumed.events.slice(0, 6)]),
        );
        assert.ok((await clusterStats(late)).stream_reads >= 1);
        resumed.close();
        fromStream.close();
      } finally {
        await Promise.all(instances.map((h) => h.stop()));
        await cleanupCluster(names);
      }
    });
  }

  // A Deno and a Bun instance whichever runner.
  onceOnBun.test("a batch publish in a cluster: each element gets its own id, in order, and reaches every instance", async () => {
    const names = clusterNames();
    const instances: Hypha[] = [];
    try {
      instances.push(await startInstance(names, "deno"));
      instances.push(await startInstance(names, "bun"));
      const clients = instances.map((h) => subscribe(h.urls.sse));
      await Promise.all(clients.map((c) => c.opened));
      const answer = await publish(
        new URL("/notify", instances[1].urls.api).href,
        [...range(1, 20).map((n) => ({ n })), 7, { n: 21 }],
      );
      assert.equal(answer.status, 207);
      const results = answer.body.results as { id?: string; error?: string }[];
      assert.equal(results[20].error, "not_object");
      const ids = results.filter((r) => r.id !== undefined).map((r) => r.id!);
      assert.equal(ids.length, 21);
      const offsets = ids.map((id) => Number(id.split("-")[1]));
      assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b));
      const sent = [...range(1, 21)];
      for (const c of clients) {
        await waitForNumbers(c, sent);
        assert.deepEqual(numbers(c.events), sent);
        assert.deepEqual(c.events.map((e) => e.lastEventId), ids);
      }
      for (const c of clients) c.close();
    } finally {
      await Promise.all(instances.map((h) => h.stop()));
      await cleanupCluster(names);
    }
  });

  // A Deno and a Bun instance whichever runner.
  onceOnBun.test("an input message redelivered with the same AMQP message-id becomes one event", async () => {
    const names = clusterNames();
    const instances: Hypha[] = [];
    const broker = await connectBroker();
    try {
      instances.push(await startInstance(names, "deno"));
      instances.push(await startInstance(names, "bun"));
      const clients = instances.map((h) => subscribe(h.urls.sse));
      await Promise.all(clients.map((c) => c.opened));
      const send = (n: number, messageId?: string) =>
        broker.channel.basicPublish(
          names.exchange,
          "feed.item",
          JSON.stringify({ n }),
          { contentType: "application/json", messageId },
        );
      await send(1, "order-1");
      await send(1, "order-1");
      await send(2, "order-2");
      await send(3);
      await send(3);
      await send(4, "order-1");
      await send(5, "order-5");
      for (const c of clients) {
        await waitForNumbers(c, [5]);
        // Competing consumers append in no fixed order; the same one for all.
        const sorted = numbers(c.events).sort((a, b) => a - b);
        assert.deepEqual(sorted, [1, 2, 3, 3, 5]);
        assert.deepEqual(pairs(c.events), pairs(clients[0].events));
      }
      for (const c of clients) c.close();
    } finally {
      await Promise.all(instances.map((h) => h.stop()));
      await broker.cleanup({});
      await cleanupCluster(names);
    }
  });
});
