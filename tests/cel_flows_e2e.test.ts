import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { subscribe } from "./support/clients.ts";
import {
  adminStats,
  type Hypha,
  publish,
  RUNTIME,
  startHypha,
} from "./support/hypha.ts";
import {
  type Broker,
  connectBroker,
  eventually,
  sourceStats,
  uniqueName,
} from "./support/rabbitmq.ts";
import {
  ADMIN,
  type ConfigInput,
  flow,
  merge,
  rabbitConfig,
  rest,
  sse,
  throwawayTopology,
} from "./support/config_builder.ts";

// Two flows read POST /orders: "big" (filtered, transformed, to the room
// named by input.region, a field the transform drops) and "dash" (to the
// literal room "dashboard", the body as it came).
const ORDER_FLOWS = {
  big: flow(
    { connector: "api", operation: "POST /orders" },
    { connector: "sse", operation: "send_to_room", target: "input.region" },
    {
      filter: "input.total >= 100",
      transform: {
        id: "input.order_id",
        customer: "input.customer.name.upperAscii()",
        cents: "int(input.total * 100.0)",
        kind: "'order'",
        route: "meta.route",
      },
    },
  ),
  dash: flow(
    { connector: "api", operation: "POST /orders" },
    { connector: "sse", operation: "send_to_room", target: "dashboard" },
  ),
  vip: flow(
    { connector: "api", operation: "POST /vip" },
    { connector: "sse", operation: "broadcast" },
    { filter: "has(input.vip) && input.vip == true" },
  ),
  odd: flow(
    { connector: "api", operation: "POST /odd" },
    { connector: "sse", operation: "broadcast" },
    { filter: "input.n", transform: { x: "input.missing + 1" } },
  ),
};

describe(`CEL filter and transform through REST (${RUNTIME})`, () => {
  let hypha: Hypha;
  let api: string;
  let events: string;
  before(async () => {
    hypha = await startHypha(merge<ConfigInput>({
      connector: { sse: sse(), api: rest() },
      flow: ORDER_FLOWS,
    }, ADMIN));
    api = new URL("/", hypha.urls.api).href.replace(/\/$/, "");
    events = hypha.urls.sse;
  });
  after(async () => await hypha.stop());

  test("a transform reshapes the data, the target reads the original body, a false filter drops it for that flow only", async () => {
    const eu = subscribe(`${events}?room=eu`);
    const dashboard = subscribe(`${events}?room=dashboard`);
    await Promise.all([eu.opened, dashboard.opened]);
    const small = {
      order_id: 1,
      total: 50,
      region: "eu",
      customer: { name: "bob", email: "bob@example.com" },
    };
    const big = { ...small, order_id: 2, total: 150.5 };
    assert.deepEqual(await publish(`${api}/orders`, small), {
      status: 202,
      body: { delivered: 1 },
    });
    assert.deepEqual(await publish(`${api}/orders`, big), {
      status: 202,
      body: { delivered: 2 },
    });
    const [shaped] = await eu.waitFor(1);
    assert.equal(
      shaped.data,
      '{"id":2,"customer":"BOB","cents":15050,"kind":"order","route":"POST /orders"}',
    );
    const full = await dashboard.waitFor(2);
    assert.deepEqual(full.map((e) => JSON.parse(e.data)), [small, big]);
    assert.equal(eu.events.length, 1);
    eu.close();
    dashboard.close();
  });

  test("a message every flow's filter drops is answered 202, counted as filtered, not rejected", async () => {
    const before = await stats();
    assert.deepEqual(await publish(`${api}/vip`, { vip: false }), {
      status: 202,
      body: { delivered: 0, filtered: true },
    });
    const after = await stats();
    assert.equal(after.filtered, before.filtered + 1);
    assert.deepEqual(after.rejected, before.rejected);
  });

  test("a filter that is not a bool, and a transform that fails, reject with a reason", async () => {
    const notBool = await publish(`${api}/odd`, { n: 1 });
    assert.equal(notBool.status, 422);
    assert.equal(
      notBool.body.error,
      "flow odd: filter gave the number 1, expected true or false",
    );
    const failing = await publish(`${api}/odd`, { n: true });
    assert.equal(failing.status, 422);
    assert.match(
      String(failing.body.error),
      /^flow odd: transform\.x: .*missing/,
    );
    const { rejected } = await stats();
    assert.ok(rejected.bad_filter >= 1 && rejected.bad_transform >= 1);
  });

  async function stats(): Promise<
    { filtered: number; rejected: Record<string, number> }
  > {
    return (await adminStats(hypha)).sources.api;
  }
});

describe(`CEL filter and transform through RabbitMQ (${RUNTIME})`, () => {
  const exchange = uniqueName("x");
  const queue = uniqueName("q");
  let broker: Broker;
  let hypha: Hypha;

  before(async () => {
    broker = await connectBroker();
    hypha = await startHypha(rabbitConfig(
      throwawayTopology(uniqueName("cel"), exchange, queue),
      {
        gold: flow(
          { connector: "rabbit", operation: "order.*" },
          {
            connector: "sse",
            operation: "send_to_room",
            target: "input.customer.id",
          },
          {
            filter: "meta.headers['x-tier'] == 'gold' && input.total > 10",
            transform: {
              order: "input.order_id",
              what: "meta.routing_key.split('.')[1]",
              label:
                "'#' + string(input.order_id) + ' for ' + input.customer.name",
            },
          },
        ),
      },
    ));
    await hypha.waitForLine(/INFO\s+connected connector=rabbit/);
  });

  after(async () => {
    await hypha?.stop();
    await broker?.cleanup({ queues: [queue], exchanges: [exchange] });
  });

  test("only gold orders reach the customer's room, reshaped; the rest are acked as filtered", async () => {
    const room = subscribe(`${hypha.urls.sse}?room=c7`);
    await room.opened;
    const order = (id: number, total: number) => ({
      order_id: id,
      total,
      customer: { id: "c7", name: "Ada", email: "ada@example.com" },
    });
    await broker.publish(exchange, "order.created", order(1, 50), {
      "x-tier": "silver",
    });
    await broker.publish(exchange, "order.created", order(2, 5), {
      "x-tier": "gold",
    });
    await broker.publish(exchange, "order.paid", order(3, 50), {
      "x-tier": "gold",
    });
    const [event] = await room.waitFor(1);
    assert.equal(event.data, '{"order":3,"what":"paid","label":"#3 for Ada"}');
    await eventually("three messages counted", async () => {
      const s = await sourceStats(hypha);
      return s.received === 3;
    });
    const stats = await sourceStats(hypha) as unknown as {
      delivered: number;
      filtered: number;
      rejected: Record<string, number>;
    };
    assert.equal(stats.delivered, 1);
    assert.equal(stats.filtered, 2);
    assert.deepEqual(stats.rejected, {});
    assert.equal(room.events.length, 1);
    room.close();
    // Filtered messages were acked: an unacked one would be back on the
    // queue once hypha's connection is gone.
    await hypha.stop();
    assert.equal(await broker.ready(queue), 0);
  });
});
