/**
 * RabbitMQ as a flow target, end to end against the real broker: Mycel's
 * mq example shape (POST /orders published to an exchange with a routing
 * key), a routing key read from the message, filter and transform, a queue
 * relayed to an exchange by one connector that consumes and publishes, and
 * the broker away (a proxy closed and reopened): 503 with Retry-After,
 * RabbitMQ input requeued, nothing that was answered 202 lost.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  adminStats,
  adminUrl,
  type Hypha,
  publish,
  RUNTIME,
  startHypha,
} from "./support/hypha.ts";
import { takePublished, watchExchange } from "./support/published.ts";
import {
  type Broker,
  connectBroker,
  eventually,
  freePort,
  startBrokerProxy,
  uniqueName,
} from "./support/rabbitmq.ts";
import {
  ADMIN,
  type ConfigInput,
  flow,
  merge,
  rabbit,
  rest,
  sse,
} from "./support/config_builder.ts";

/** The admin listener, the SSE connector and the REST connector "api". */
const SSE_AND_API: ConfigInput = merge<ConfigInput>(
  { connector: { sse: sse(), api: rest() } },
  ADMIN,
);

/** A flow from the REST route `operation` to the mq connector `to`. */
const fromApi = (operation: string, to: string, target?: string) =>
  flow({ connector: "api", operation }, { connector: to, target });

describe(`RabbitMQ publisher target (${RUNTIME})`, () => {
  const out = uniqueName("out");
  const watched = uniqueName("watch");
  const inbound = uniqueName("in");
  const inQueue = uniqueName("in-q");
  let broker: Broker;
  let hypha: Hypha;
  let api: string;

  before(async () => {
    broker = await connectBroker();
    await watchExchange(broker, out, watched);
    hypha = await startHypha(merge(SSE_AND_API, {
      connector: {
        bus: rabbit({
          connection_name: uniqueName("bus"),
          reconnect_delay: "200ms",
          exchange: { name: inbound, durable: false, routing_key: "in.#" },
          queue: { name: inQueue, durable: false },
          publisher: {
            exchange: out,
            routing_key: "order.default",
            persistent: true,
            content_type: "application/json",
          },
        }),
      },
      flow: {
        publish_order: {
          ...fromApi("POST /orders", "bus", "order.created"),
          filter: "input.quantity > 0",
          transform: {
            product: "input.product",
            quantity: "input.quantity",
            status: "'pending'",
          },
        },
        by_kind: fromApi("POST /events/:kind", "bus", "input.kind"),
        typed: fromApi("POST /typed", "bus", "input.type"),
        untargeted: fromApi("POST /default", "bus"),
        relay: flow(
          { connector: "bus", operation: "in.#" },
          { connector: "bus", target: "meta.routing_key" },
        ),
      },
    }));
    await hypha.waitForLine(/INFO\s+publisher connected connector=bus/);
    await hypha.waitForLine(/INFO\s+connected connector=bus/);
    api = new URL(hypha.urls.api).origin;
  });

  after(async () => {
    await hypha?.stop();
    await broker?.cleanup({
      queues: [watched, inQueue],
      exchanges: [out, inbound],
    });
  });

  test("POST /orders is answered 202 once the broker confirmed it, and arrives with its routing key, content type, persistence and flow headers", async () => {
    const answer = await publish(`${api}/orders`, {
      product: "tea",
      quantity: 2,
      customer: "ada",
    });
    assert.equal(answer.status, 202);
    assert.deepEqual(answer.body, { delivered: 0, published: 1 });
    const [message] = await takePublished(broker, watched, 1);
    assert.equal(message.routingKey, "order.created");
    assert.deepEqual(JSON.parse(message.body), {
      product: "tea",
      quantity: 2,
      status: "pending",
    });
    assert.equal(message.contentType, "application/json");
    assert.equal(message.deliveryMode, 2);
    assert.equal(message.headers["x-hypha-flow"], "publish_order");
    assert.equal(message.headers["x-hypha-source"], "api");
    assert.ok(message.messageId, "a message id");
  });

  test("a message the filter drops is not published; the next one is", async () => {
    const dropped = await publish(`${api}/orders`, {
      product: "x",
      quantity: 0,
    });
    assert.equal(dropped.status, 202);
    assert.deepEqual(dropped.body, { delivered: 0, filtered: true });
    await publish(`${api}/orders`, { product: "kept", quantity: 1 });
    const taken = await takePublished(broker, watched, 1);
    assert.deepEqual(taken.map((m) => JSON.parse(m.body).product), ["kept"]);
  });

  test("the routing key is read from the message, or is the publisher's routing_key without a target", async () => {
    assert.equal(
      (await publish(`${api}/events/shipped`, { n: 1 })).status,
      202,
    );
    assert.equal(
      (await publish(`${api}/typed`, { type: "a.b", n: 2 })).status,
      202,
    );
    assert.equal((await publish(`${api}/default`, { n: 3 })).status, 202);
    const taken = await takePublished(broker, watched, 3);
    const keys = Object.fromEntries(
      taken.map((m) => [JSON.parse(m.body).n, m.routingKey]),
    );
    assert.deepEqual(keys, { 1: "shipped", 2: "a.b", 3: "order.default" });
    // The body is the message as it came (plus path params).
    assert.deepEqual(
      JSON.parse(taken.find((m) => m.routingKey === "shipped")!.body),
      { n: 1, kind: "shipped" },
    );
  });

  test("a routing key the message lacks refuses it with 422, naming the flow and expression", async () => {
    const answer = await publish(`${api}/typed`, { n: 4 });
    assert.equal(answer.status, 422);
    assert.equal(answer.body.error, "flow typed: target input.type is missing");
  });

  test("one connector consumes a queue and publishes what it reads to another exchange", async () => {
    await broker.publish(inbound, "in.order", { n: 5 });
    const [message] = await takePublished(broker, watched, 1);
    assert.equal(message.routingKey, "in.order");
    assert.deepEqual(JSON.parse(message.body), { n: 5 });
    assert.equal(message.headers["x-hypha-flow"], "relay");
    assert.equal(message.headers["x-hypha-source"], "bus");
  });

  test("published messages are counted per connector on /stats and /metrics", async () => {
    const stats = (await adminStats(hypha)).publishers.bus;
    assert.equal(stats.connected, true);
    assert.ok(stats.published >= 6, JSON.stringify(stats));
    const metrics = await (await fetch(adminUrl(hypha, "/metrics"))).text();
    assert.match(
      metrics,
      new RegExp(
        `hypha_mq_published_total\\{connector="bus"\\} ${stats.published}`,
      ),
    );
    assert.match(metrics, /hypha_mq_publisher_connected\{connector="bus"\} 1/);
  });
});

describe(`RabbitMQ publisher with the broker away (${RUNTIME})`, () => {
  test("503 with Retry-After while the broker is away, RabbitMQ input requeued, then 202 again; every accepted message arrives", async () => {
    const out = uniqueName("out");
    const watched = uniqueName("watch");
    const inbound = uniqueName("in");
    const inQueue = uniqueName("in-q");
    const broker = await connectBroker();
    await watchExchange(broker, out, watched);
    const port = await freePort();
    let proxy = await startBrokerProxy(port);
    const hypha = await startHypha(merge(SSE_AND_API, {
      connector: {
        feed: rabbit({
          exchange: { name: inbound, durable: false },
          queue: { name: inQueue, durable: false },
        }),
        out: rabbit({
          url: `amqp://guest:guest@127.0.0.1:${port}`,
          reconnect_delay: "200ms",
          publisher: {
            exchange: out,
            persistent: false,
            content_type: "application/vnd.order+json",
          },
        }),
      },
      flow: {
        orders: fromApi("POST /orders", "out", "order.created"),
        relay: flow({ connector: "feed" }, {
          connector: "out",
          target: "relayed",
        }),
      },
    }));
    try {
      await hypha.waitForLine(/INFO\s+publisher connected connector=out/);
      const api = new URL(hypha.urls.api).origin;
      assert.equal((await publish(`${api}/orders`, { n: 1 })).status, 202);

      await proxy.close();
      await hypha.waitForLine(/WARN\s+publisher disconnected connector=out/);
      const response = await fetch(`${api}/orders`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ n: 2 }),
      });
      assert.equal(response.status, 503);
      assert.equal(response.headers.get("retry-after"), "1");
      assert.deepEqual(await response.json(), {
        error: "connector out: not connected to the broker",
      });
      // RabbitMQ input waits in its queue (requeued), not dropped.
      await broker.publish(inbound, "in.x", { n: 3 });
      await eventually(
        "the relay requeued",
        async () =>
          ((await adminStats(hypha)).sources.feed.rejected.unavailable ?? 0) >=
            1,
      );
      const ready = (await adminStats(hypha)).publishers.out;
      assert.equal(ready.connected, false);
      assert.ok(ready.refused >= 2, JSON.stringify(ready));
      const readyz = await fetch(adminUrl(hypha, "/readyz"));
      assert.equal(readyz.status, 503);
      assert.match(await readyz.text(), /out: publisher not connected/);

      proxy = await startBrokerProxy(port);
      // The log already holds the first "publisher connected": ask /stats.
      await eventually(
        "the publisher connected again",
        async () => (await adminStats(hypha)).publishers.out.connected,
      );
      assert.equal((await publish(`${api}/orders`, { n: 4 })).status, 202);
      const taken = await takePublished(broker, watched, 3);
      assert.deepEqual(
        taken.map((m) => JSON.parse(m.body).n).sort(),
        [1, 3, 4],
      );
      const first = taken.find((m) => JSON.parse(m.body).n === 1)!;
      assert.equal(first.deliveryMode, 1);
      assert.equal(first.contentType, "application/vnd.order+json");
      assert.equal(
        taken.find((m) => JSON.parse(m.body).n === 3)!.routingKey,
        "relayed",
      );
    } finally {
      await hypha.stop();
      await proxy.close();
      await broker.cleanup({
        queues: [watched, inQueue],
        exchanges: [out, inbound],
      });
    }
  });
});
