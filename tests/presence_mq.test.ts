/**
 * Lifecycle events into RabbitMQ, the main use of presence: a flow reads
 * the SSE connector's lifecycle and publishes to an exchange; the test's
 * own queue consumes what the app would.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { rawSubscribe } from "./support/clients.ts";
import { type Hypha, RUNTIME, startHypha } from "./support/hypha.ts";
import { takePublished, watchExchange } from "./support/published.ts";
import { connectBroker, uniqueName } from "./support/rabbitmq.ts";
import { flow, rabbit, sse } from "./support/config_builder.ts";

describe(`lifecycle events into RabbitMQ (${RUNTIME})`, () => {
  test("connected, room_occupied, disconnected and room_vacated are published with their routing keys, and consumed from a real queue", async () => {
    const exchange = uniqueName("presence-out");
    const queue = uniqueName("presence-watch");
    const broker = await connectBroker();
    await watchExchange(broker, exchange, queue);
    let hypha: Hypha | undefined;
    try {
      hypha = await startHypha({
        connector: {
          sse: sse({ presence: { vacate_after: "200ms" } }),
          bus: rabbit({
            connection_name: uniqueName("bus"),
            publisher: { exchange, routing_key: "presence" },
          }),
        },
        flow: {
          lifecycle: flow({ connector: "sse" }, {
            connector: "bus",
            target: "meta.operation",
          }),
        },
      });
      const client = await rawSubscribe(
        hypha.urls.sse,
        "/events?room=orders&user_id=42",
      );
      const opened = await takePublished(broker, queue, 2);
      assert.deepEqual(
        opened.map((m) => m.routingKey).sort(),
        ["connected", "room_occupied"],
      );
      const connected = JSON.parse(
        opened.find((m) => m.routingKey === "connected")!.body,
      );
      assert.equal(connected.user_id, "42");
      assert.deepEqual(connected.rooms, ["orders"]);
      assert.equal(
        opened[0].headers["x-hypha-flow"],
        "lifecycle",
      );
      client.close();
      const closed = await takePublished(broker, queue, 2);
      assert.deepEqual(
        closed.map((m) => m.routingKey).sort(),
        ["disconnected", "room_vacated"],
      );
      const vacated = JSON.parse(
        closed.find((m) => m.routingKey === "room_vacated")!.body,
      );
      assert.equal(vacated.room, "orders");
    } finally {
      await hypha?.stop();
      await broker.cleanup({ queues: [queue], exchanges: [exchange] });
    }
  });
});
