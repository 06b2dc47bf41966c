/**
 * The RabbitMQ fixture of a Mycel user (envelope expressions, dlq, a room
 * named in the config, transform, filter) runs as it is and as translated.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { subscribe, type Subscriber } from "./support/clients.ts";
import {
  type Hypha,
  runHypha,
  startHypha,
  startHyphaAt,
} from "./support/hypha.ts";
import { freePort } from "./support/ports.ts";
import { connectBroker, eventually, uniqueName } from "./support/rabbitmq.ts";

const FIXTURE = new URL("./fixtures/mycel/rabbitmq.hcl", import.meta.url)
  .pathname;

describe("Mycel RabbitMQ HCL end to end", () => {
  test("envelope expressions, transform, filter, a named room and the dlq work as written and as translated", async () => {
    const names = {
      QUEUE: uniqueName("mycel-q"),
      EXCHANGE: uniqueName("mycel-x"),
      DLQ: uniqueName("mycel-dlq"),
      CONNECTION_NAME: uniqueName("mycel-conn"),
    };
    const broker = await connectBroker();
    const { code, output: toml } = await runHypha(
      ["translate", FIXTURE],
      names,
    );
    assert.equal(code, 0, toml);
    assert.match(
      toml,
      /# Mycel default made explicit: .*prefetch|prefetch = 10/,
    );
    try {
      for (
        const start of [
          async () =>
            startHyphaAt(FIXTURE, {
              ...names,
              SSE_PORT: String(await freePort()),
            }),
          async () =>
            startHypha(toml, { ...names, SSE_PORT: String(await freePort()) }),
        ]
      ) {
        const hypha = await start();
        try {
          await scenario(hypha, broker, names);
        } finally {
          await hypha.stop();
        }
      }
    } finally {
      await broker.cleanup({
        queues: [names.QUEUE, names.DLQ],
        exchanges: [names.EXCHANGE, `${names.EXCHANGE}.dlx`],
      });
    }
  });
});

async function scenario(
  hypha: Hypha,
  broker: Awaited<ReturnType<typeof connectBroker>>,
  names: Record<string, string>,
): Promise<void> {
  const base = hypha.urls.events;
  const customer: Subscriber = subscribe(`${base}?user_id=c1`);
  const dashboard: Subscriber = subscribe(`${base}?room=dashboard`);
  try {
    await Promise.all([customer.opened, dashboard.opened]);
    const x = names.EXCHANGE;
    await broker.publish(x, "orders.created", {
      id: 7,
      total: 120,
      customer: { id: "c1", email: "c1@example.com" },
    }, { currency: "EUR" });
    await broker.publish(x, "orders.paid", { total: 150 }, { source: "web" });
    await broker.publish(x, "orders.paid", { total: 50 }, { source: "web" });
    await broker.publish(x, "orders.paid", { total: 500 }, { source: "test" });
    await broker.publish(x, "orders.paid", { total: 200 }, { source: "web" });
    // No customer.id: refused, and dead-lettered to the DLQ.
    await broker.publish(x, "orders.created", { id: 8, total: 1 });

    const [order] = await customer.waitFor(1);
    assert.deepEqual(JSON.parse(order.data), {
      order: 7,
      total: 120,
      currency: "EUR",
      key: "orders.created",
    });
    const paid = await dashboard.waitFor(2);
    assert.deepEqual(paid.map((e) => JSON.parse(e.data).total), [150, 200]);
    await eventually(
      "the refused message is in the DLQ",
      async () => (await broker.ready(names.DLQ)) === 1,
    );
    assert.equal(customer.events.length, 1);
    assert.equal(dashboard.events.length, 2);
    await broker.drain(names.DLQ);
  } finally {
    customer.close();
    dashboard.close();
  }
}
