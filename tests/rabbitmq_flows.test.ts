import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { subscribe } from "./support/clients.ts";
import { type Hypha, RUNTIME, startHypha } from "./support/hypha.ts";
import {
  type Broker,
  connectBroker,
  eventually,
  sourceStats,
  uniqueName,
  waitForNumbers,
} from "./support/rabbitmq.ts";
import {
  flow,
  merge,
  rabbitConfig,
  SEED_FLOWS,
  throwawayTopology,
} from "./support/config_builder.ts";

describe(`RabbitMQ flows end to end (${RUNTIME})`, () => {
  const exchange = uniqueName("x");
  const queue = uniqueName("q");
  const dlq = `${queue}.dlq`;
  let broker: Broker;
  let hypha: Hypha;
  let events: string;

  before(async () => {
    broker = await connectBroker();
    hypha = await startHypha(rabbitConfig(
      merge(throwawayTopology(uniqueName("flows"), exchange, queue), {
        consumer: { dlq: { enabled: true } },
      }),
      {
        ...SEED_FLOWS,
        audit: flow({ connector: "rabbit", operation: "audit.*" }, {
          connector: "sse",
          operation: "broadcast",
          event: "meta.routing_key",
        }),
        metrics: flow({ connector: "rabbit", operation: "metrics.#" }, {
          connector: "sse",
          operation: "send_to_room",
          target: "meta.headers.room",
          event: "input.type",
        }),
      },
    ));
    await hypha.waitForLine(/INFO\s+connected connector=rabbit/);
    events = hypha.urls.sse;
  });

  after(async () => {
    await hypha?.stop();
    await broker?.cleanup({
      queues: [queue, dlq],
      exchanges: [exchange, `${queue}.dlx`],
    });
  });

  test("the seed's three flows reach only the right subscribers", async () => {
    const all = subscribe(events);
    const orders = subscribe(`${events}?room=orders`);
    const inventory = subscribe(`${events}?room=inventory`);
    const user42 = subscribe(`${events}?user_id=42`);
    const user43 = subscribe(`${events}?user_id=43`);
    const clients = [all, orders, inventory, user42, user43];
    await Promise.all(clients.map((c) => c.opened));

    await broker.publish(exchange, "room.event", { room: "orders", n: 1 });
    await broker.publish(exchange, "notification.personal", {
      user_id: 42,
      n: 2,
    });
    await broker.publish(exchange, "room.event", { room: "inventory", n: 3 });
    await broker.publish(exchange, "feed.item", { n: 4 });

    // The broadcast comes last, so once it is in, everything before it is.
    const numbers = async (c: typeof all, count: number) =>
      (await c.waitFor(count, 20_000)).map((e) => JSON.parse(e.data).n);
    assert.deepEqual(await numbers(all, 1), [4]);
    assert.deepEqual(await numbers(orders, 2), [1, 4]);
    assert.deepEqual(await numbers(inventory, 2), [3, 4]);
    assert.deepEqual(await numbers(user42, 2), [2, 4]);
    assert.deepEqual(await numbers(user43, 1), [4]);
    // The body is the event's data, unchanged; the type defaults to message.
    assert.deepEqual(orders.events[0], {
      type: "message",
      data: '{"room":"orders","n":1}',
      lastEventId: orders.events[0].lastEventId,
    });
    for (const c of clients) c.close();
  });

  test("operations are topic patterns: * is one word, # zero or more", async () => {
    const all = subscribe(events, { types: ["audit.login", "audit.logout"] });
    const orders = subscribe(`${events}?room=orders`, { types: ["metric"] });
    await Promise.all([all.opened, orders.opened]);
    const before = await sourceStats(hypha);

    await broker.publish(exchange, "audit.login", { n: 1 });
    await broker.publish(exchange, "audit.login.failed", { n: 2 }); // no flow
    await broker.publish(exchange, "metrics", { type: "metric", n: 3 }, {
      room: "orders",
    });
    await broker.publish(
      exchange,
      "metrics.cpu.load",
      { type: "metric", n: 4 },
      { room: "orders" },
    );
    await broker.publish(exchange, "audit.logout", { n: 5 });

    await waitForNumbers(all, [1, 5]);
    await waitForNumbers(orders, [3, 4]);
    assert.deepEqual(
      all.events.map((e) => [e.type, JSON.parse(e.data).n]),
      [["audit.login", 1], ["audit.logout", 5]],
    );
    assert.deepEqual(
      orders.events.map((e) => [e.type, JSON.parse(e.data).n]),
      [["metric", 3], ["metric", 4]],
    );

    // The message that matched no flow was refused and counted...
    const stats = await sourceStats(hypha);
    assert.equal(
      (stats.rejected.no_flow ?? 0) - (before.rejected.no_flow ?? 0),
      1,
    );
    assert.equal(stats.delivered - before.delivered, 4);
    assert.equal(stats.connected, true);
    // ...nacked without requeue, so the broker dead-lettered it...
    let dead: string[] = [];
    await eventually("the no-flow message in the DLQ", async () => {
      dead = dead.concat(await broker.drain(dlq));
      return dead.length >= 1;
    });
    assert.deepEqual(dead, ['{"n":2}']);
    // ...and logged with its reason and routing key.
    const line = await hypha.waitForLine(/WARN\s+rejected message/);
    assert.match(line, /code=no_flow/);
    assert.match(line, /routing_key=audit\.login\.failed/);
    all.close();
    orders.close();
  });
});
