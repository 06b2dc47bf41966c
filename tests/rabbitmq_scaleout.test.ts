import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { subscribe } from "./support/clients.ts";
import { type Hypha, RUNTIME, startHypha } from "./support/hypha.ts";
import {
  connectBroker,
  range,
  uniqueName,
  waitForNumbers,
} from "./support/rabbitmq.ts";
import { rabbitConfig, throwawayTopology } from "./support/config_builder.ts";

describe(`RabbitMQ scale-out (${RUNTIME})`, () => {
  test("two instances on one exchange: every subscriber on either gets each broadcast exactly once", async () => {
    const exchange = uniqueName("x");
    const broker = await connectBroker();
    const config = (instance: string) =>
      rabbitConfig(throwawayTopology(uniqueName(instance), exchange, ""));
    const instances: Hypha[] = [];
    try {
      instances.push(await startHypha(config("a")));
      instances.push(await startHypha(config("b")));
      const queues = await Promise.all(instances.map(async (h) => {
        const line = await h.waitForLine(/INFO\s+connected connector=rabbit/);
        return /queue=(\S+)/.exec(line)?.[1];
      }));
      // Each instance has its own server-named queue.
      assert.match(queues[0] ?? "", /^amq\.gen-/);
      assert.match(queues[1] ?? "", /^amq\.gen-/);
      assert.notEqual(queues[0], queues[1]);

      const [a, b] = instances.map((h) => h.urls.sse);
      const everyone = [subscribe(a), subscribe(a), subscribe(b), subscribe(b)];
      const ordersOnB = subscribe(`${b}?room=orders`);
      const user42OnA = subscribe(`${a}?user_id=42`);
      const clients = [...everyone, ordersOnB, user42OnA];
      await Promise.all(clients.map((c) => c.opened));

      for (const n of range(1, 10)) {
        await broker.publish(exchange, "feed.item", { n });
      }
      await broker.publish(exchange, "room.event", { room: "orders", n: 11 });
      await broker.publish(exchange, "notification.personal", {
        user_id: 42,
        n: 12,
      });
      // A last broadcast: once it is in, any duplicate of the ones before it
      // would be in too, since each instance delivers in order.
      await broker.publish(exchange, "feed.item", { n: 13 });

      const broadcasts = [...range(1, 10), 13];
      for (const c of everyone) {
        assert.deepEqual(await waitForNumbers(c, broadcasts), broadcasts);
      }
      assert.deepEqual(await waitForNumbers(ordersOnB, [13]), [
        ...range(1, 11),
        13,
      ]);
      assert.deepEqual(await waitForNumbers(user42OnA, [13]), [
        ...range(1, 10),
        12,
        13,
      ]);
      for (const c of clients) c.close();
    } finally {
      await Promise.all(instances.map((h) => h.stop()));
      await broker.cleanup({ exchanges: [exchange] });
    }
  });
});
