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
import { rabbitConfig } from "./support/config_builder.ts";

describe(`RabbitMQ poison messages (${RUNTIME})`, () => {
  const exchange = uniqueName("x");
  const queue = uniqueName("q");
  const dlx = uniqueName("dlx");
  const dlq = uniqueName("dlq");
  let broker: Broker;
  let hypha: Hypha;

  before(async () => {
    broker = await connectBroker();
    hypha = await startHypha(rabbitConfig({
      host: "127.0.0.1",
      port: 5672,
      username: "guest",
      password: "guest",
      vhost: "/",
      connection_name: uniqueName("poison"),
      exchange: {
        name: exchange,
        durable: false,
        routing_key: ["feed.*", "room.*"],
      },
      consumer: {
        queue,
        prefetch: 10,
        dlq: { enabled: true, exchange: dlx, queue: dlq },
      },
    }));
    await hypha.waitForLine(/INFO\s+connected connector=rabbit/);
  });

  after(async () => {
    await hypha?.stop();
    await broker?.cleanup({ queues: [queue, dlq], exchanges: [exchange, dlx] });
  });

  test("not JSON, a JSON array and a missing target land in the DLQ; good messages after them arrive", async () => {
    const all = subscribe(hypha.urls.sse);
    const orders = subscribe(`${hypha.urls.sse}?room=orders`);
    await Promise.all([all.opened, orders.opened]);

    const poison: [string, string | Uint8Array][] = [
      ["feed.item", "this is not JSON"],
      ["feed.item", "[1,2,3]"],
      ["feed.item", '"a string"'],
      ["feed.item", ""],
      ["feed.item", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])], // not UTF-8
      ["room.event", '{"n":0}'], // no room
      ["room.event", '{"room":"","n":0}'], // empty room
    ];
    for (const [key, body] of poison) await broker.publish(exchange, key, body);
    await broker.publish(exchange, "feed.item", { n: 1 });
    await broker.publish(exchange, "room.event", { room: "orders", n: 2 });

    assert.deepEqual(await waitForNumbers(all, [1]), [1]);
    assert.deepEqual(await waitForNumbers(orders, [1, 2]), [1, 2]);

    let dead: string[] = [];
    await eventually("every poison message in the DLQ", async () => {
      dead = dead.concat(await broker.drain(dlq));
      return dead.length >= poison.length;
    });
    assert.equal(dead.length, poison.length);
    assert.deepEqual(
      dead.filter((b) => b.startsWith("this") || b.startsWith("[")),
      ["this is not JSON", "[1,2,3]"],
    );
    // Nothing is left on the work queue: the bad ones were not requeued.
    assert.equal(await broker.ready(queue), 0);

    const stats = await sourceStats(hypha);
    assert.deepEqual(stats.rejected, {
      not_json: 3,
      not_object: 2,
      bad_target: 2,
    });
    assert.equal(stats.delivered, 2);
    assert.equal(stats.received, poison.length + 2);

    const line = await hypha.waitForLine(/WARN\s+rejected message.*not_object/);
    assert.match(line, /reason="body is an array, expected a JSON object"/);
    assert.match(line, /routing_key=feed\.item/);
    await hypha.waitForLine(
      /WARN\s+rejected message.*bad_target.*input\.room is missing.*routing_key=room\.event/,
    );
    all.close();
    orders.close();
  });

  test("a routing key with terminal escapes and line breaks is logged escaped on one line", async () => {
    const key = "feed.\x1b[31mred\r\nINFO forged\u0085\u2028";
    await broker.publish(exchange, key, { n: 1 });
    const line = await hypha.waitForLine(/rejected message.*code=no_flow/);
    assert.ok(
      line.includes(
        'routing_key="feed.\\u001b[31mred\\r\\nINFO forged\\u0085\\u2028"',
      ),
      line,
    );
    assert.ok(
      !hypha.lines.some((l) =>
        l.includes("\x1b") || l.startsWith("INFO forged")
      ),
    );
  });

  test("a flood of bad messages is logged at a limited rate and the consumer goes on", async () => {
    const all = subscribe(hypha.urls.sse);
    await all.opened;
    const logged = () =>
      hypha.lines.filter((l) => /rejected message.*code=not_json/.test(l))
        .length;
    const before = logged();
    const rejectedBefore = (await sourceStats(hypha)).rejected
      .not_json ?? 0;
    for (let i = 0; i < 50; i++) {
      await broker.publish(exchange, "feed.item", `garbage ${i}`);
    }
    await broker.publish(exchange, "feed.item", { n: 3 });
    assert.deepEqual(await waitForNumbers(all, [3]), [3]);
    // One line per code and 10 s window: at most one for these 50.
    assert.ok(logged() - before <= 1, `${logged() - before} log lines`);
    const stats = await sourceStats(hypha);
    assert.equal(stats.rejected.not_json - rejectedBefore, 50);
    await eventually(
      "the garbage in the DLQ",
      async () => (await broker.drain(dlq)).length > 0,
    );
    all.close();
  });
});
