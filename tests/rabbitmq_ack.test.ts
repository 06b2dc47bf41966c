import assert from "node:assert/strict";
import process from "node:process";
import { describe, test } from "node:test";
import { subscribe } from "./support/clients.ts";
import { RUNTIME, startHypha } from "./support/hypha.ts";
import {
  connectBroker,
  connectionPids,
  eventually,
  queueCounts,
  uniqueName,
  waitForNumbers,
} from "./support/rabbitmq.ts";
import { rabbitConfig, RABBITMQ_URL } from "./support/config_builder.ts";

describe(`RabbitMQ acks (${RUNTIME})`, () => {
  test("with prefetch = 1 a message stays unacked until it was queued to the subscribers", async () => {
    const exchange = uniqueName("x");
    const queue = uniqueName("q");
    const connectionName = uniqueName("ack");
    const broker = await connectBroker();
    const hypha = await startHypha(rabbitConfig({
      url: RABBITMQ_URL,
      connection_name: connectionName,
      // Long enough that the broker keeps the connection while hypha is paused.
      heartbeat: "60s",
      exchange: { name: exchange, durable: false },
      queue: { name: queue, durable: false },
      consumer: { prefetch: 1 },
    }));
    const pid = hypha.process.pid;
    let paused = false;
    const counts = () => queueCounts(queue);
    try {
      await hypha.waitForLine(/INFO\s+connected connector=rabbit/);
      const orders = subscribe(`${hypha.urls.sse}?room=orders`);
      await orders.opened;

      await broker.publish(exchange, "room.event", { room: "orders", n: 1 });
      await waitForNumbers(orders, [1]);

      // Freeze hypha: the broker still delivers to its socket, but nothing
      // can be routed to the subscriber, so nothing may be acked.
      process.kill(pid, "SIGSTOP");
      paused = true;
      for (const n of [2, 3, 4]) {
        await broker.publish(exchange, "room.event", { room: "orders", n });
      }
      // (ready comes from a passive declare; rabbitmqctl, which also knows
      // the unacked count, takes seconds a call, so it is asked once.)
      // With prefetch 1, two ready of three means message 1 was acked.
      await eventually(
        "one message delivered to hypha, two held back",
        async () => await broker.ready(queue) === 2,
      );
      assert.deepEqual(orders.events.map((e) => JSON.parse(e.data).n), [1]);
      assert.deepEqual(await counts(), { ready: 2, unacked: 1 });

      process.kill(pid, "SIGCONT");
      paused = false;
      assert.deepEqual(await waitForNumbers(orders, [2, 3, 4]), [1, 2, 3, 4]);
      orders.close();

      // SIGTERM: the consumer is cancelled and the connection closed cleanly.
      assert.equal(await hypha.stop(), 0);
      assert.deepEqual(await connectionPids(connectionName), []);
      // An unacked message would be back in the queue after the close.
      assert.equal(await broker.ready(queue), 0, "every message was acked");
    } finally {
      if (paused) process.kill(pid, "SIGCONT");
      await hypha.stop();
      await broker.cleanup({ queues: [queue], exchanges: [exchange] });
    }
  });
});
