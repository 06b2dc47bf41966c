import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { subscribe } from "./support/clients.ts";
import { RUNTIME, startHypha } from "./support/hypha.ts";
import {
  closeConnection,
  connectBroker,
  eventually,
  freePort,
  queueCounts,
  range,
  sourceStats,
  startBrokerProxy,
  uniqueName,
  waitForNumbers,
} from "./support/rabbitmq.ts";
import { rabbitConfig } from "./support/config_builder.ts";

describe(`RabbitMQ reconnects (${RUNTIME})`, () => {
  test("a connection cut by the broker mid-stream: hypha reconnects and nothing published meanwhile is lost", async () => {
    const exchange = uniqueName("x");
    const queue = uniqueName("q");
    const connectionName = uniqueName("cut");
    const broker = await connectBroker();
    const hypha = await startHypha(rabbitConfig({
      url: "amqp://guest:guest@127.0.0.1:5672/%2F",
      connection_name: connectionName,
      exchange: { name: exchange, durable: false, routing_key: "feed.#" },
      queue: { name: queue },
    }));
    try {
      await hypha.waitForLine(/INFO\s+connected connector=rabbit/);
      const all = subscribe(hypha.urls.sse);
      await all.opened;
      for (const n of range(1, 5)) {
        await broker.publish(exchange, "feed.item", { n });
      }
      await waitForNumbers(all, range(1, 5));

      assert.equal(await closeConnection(connectionName), 1);
      // Published while hypha is away: the durable queue keeps them.
      for (const n of range(6, 15)) {
        await broker.publish(exchange, "feed.item", { n });
      }
      const disconnected = await hypha.waitForLine(/WARN\s+disconnected/);
      assert.match(disconnected, /CONNECTION_FORCED/);
      await hypha.waitForLine(/WARN\s+retrying connector=rabbit/);
      await eventually(
        "a second connected line",
        () =>
          Promise.resolve(
            hypha.lines.filter((l) => /INFO\s+connected/.test(l)).length >= 2,
          ),
      );
      for (const n of range(16, 20)) {
        await broker.publish(exchange, "feed.item", { n });
      }

      const numbers = await waitForNumbers(all, range(1, 20));
      // At least once: every message arrived, in order of first arrival.
      assert.deepEqual([...new Set(numbers)], range(1, 20));
      // The subscriber never noticed: still the same open stream.
      assert.equal(all.source.readyState, 1);
      await eventually("every message acked", async () => {
        const counts = await queueCounts(queue);
        return counts?.ready === 0 && counts.unacked === 0;
      });
      assert.doesNotMatch(hypha.lines.join("\n"), /guest:guest/);
      all.close();
    } finally {
      await hypha.stop();
      await broker.cleanup({ queues: [queue], exchanges: [exchange] });
    }
  });

  test("with the broker unreachable at start, SSE works, the log says it retries, and it connects when the broker comes", async () => {
    const exchange = uniqueName("x");
    const port = await freePort();
    const broker = await connectBroker();
    await broker.channel.exchangeDeclare(exchange, "topic", { durable: false });
    const hypha = await startHypha(rabbitConfig({
      url: `amqp://guest:guest@127.0.0.1:${port}`,
      connection_name: uniqueName("late"),
      exchange: { name: exchange, durable: false },
      queue: { name: "" },
    }));
    let proxy: { close(): Promise<void> } | undefined;
    try {
      const retrying = await hypha.waitForLine(/WARN\s+retrying/);
      assert.match(
        retrying,
        new RegExp(`url=amqp://guest:\\*\\*\\*@127\\.0\\.0\\.1:${port}`),
      );
      assert.doesNotMatch(hypha.lines.join("\n"), /guest:guest/);

      // SSE serves anyway.
      const all = subscribe(hypha.urls.sse);
      await all.opened;
      assert.equal((await sourceStats(hypha)).connected, false);

      proxy = await startBrokerProxy(port);
      await hypha.waitForLine(/INFO\s+connected connector=rabbit/, 90_000);
      await broker.publish(exchange, "feed.item", { n: 1 });
      assert.deepEqual(await waitForNumbers(all, [1]), [1]);
      all.close();
    } finally {
      await hypha.stop();
      await proxy?.close();
      await broker.cleanup({ exchanges: [exchange] });
    }
  });
});
