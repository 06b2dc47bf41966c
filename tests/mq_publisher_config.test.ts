/**
 * The mq connector's publisher in config: TOML defaults and refusals that
 * name the key path, Mycel's publisher block mapped (and translated), and a
 * Mycel HCL config with a publisher block that starts and publishes, as
 * written and as translated.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { mapHcl } from "../src/config/hcl/map.ts";
import { parseHcl } from "../src/config/hcl/parse.ts";
import { parseConfig } from "../src/config/load.ts";
import { errorOf, SSE } from "./support/config_errors.ts";
import {
  type Hypha,
  publish,
  runHypha,
  startHypha,
  startHyphaAt,
} from "./support/hypha.ts";
import { freePort } from "./support/ports.ts";
import { takePublished, watchExchange } from "./support/published.ts";
import { connectBroker, uniqueName } from "./support/rabbitmq.ts";

const PUBLISHER = `${SSE}
[connector.api]
type = "rest"
port = 3003

[connector.bus]
type = "mq"
driver = "rabbitmq"
[connector.bus.publisher]
exchange = "orders"
`;

const flowTo = (lines: string) => `
[flow.f.from]
connector = "api"
operation = "POST /orders"
[flow.f.to]
${lines}
`;

describe("publisher config", () => {
  test("a publisher table takes Mycel's defaults: persistent, application/json, the default routing key empty", () => {
    const { config } = parseConfig(
      PUBLISHER + flowTo('connector = "bus"\ntarget = "order.created"'),
      "hypha.toml",
      {},
    );
    const bus = config.connector.bus;
    assert.equal(bus.type, "mq");
    assert.deepEqual(bus.type === "mq" && bus.publisher, {
      exchange: "orders",
      routing_key: "",
      persistent: true,
      content_type: "application/json",
      mandatory: false,
      confirm_timeout: 30_000,
      max_pending: 1000,
    });
  });

  test("a flow to an mq connector without a publisher table is refused, naming the key", () => {
    const text = `${SSE}
[connector.api]
type = "rest"
port = 3003
[connector.bus]
type = "mq"
driver = "rabbitmq"
` + flowTo('connector = "bus"');
    assert.match(
      errorOf(text),
      /flow\.f\.to\.connector: connector "bus" is of type mq without a publisher table; add \[connector\.bus\.publisher\]/,
    );
  });

  test("an SSE operation or event on a publisher's flow is refused, naming the key", () => {
    assert.match(
      errorOf(PUBLISHER + flowTo('connector = "bus"\noperation = "broadcast"')),
      /flow\.f\.to\.operation: "broadcast" is an operation of the sse connector; a RabbitMQ publisher takes none \(the routing key is to\.target\)/,
    );
    assert.match(
      errorOf(PUBLISHER + flowTo('connector = "bus"\nevent = "order"')),
      /flow\.f\.to\.event: a RabbitMQ publisher sends no SSE event type/,
    );
  });

  test("a flow to an SSE connector still needs its operation", () => {
    assert.match(
      errorOf(PUBLISHER + flowTo('connector = "sse"')),
      /flow\.f\.to\.operation: expected one of "broadcast", "send_to_room", "send_to_user"/,
    );
  });

  test("a routing key longer than AMQP allows is refused where it is written", () => {
    const long = "k".repeat(256);
    assert.match(
      errorOf(PUBLISHER + flowTo(`connector = "bus"\ntarget = "${long}"`)),
      /flow\.f\.to\.target: routing key is 256 bytes long; AMQP allows at most 255/,
    );
    assert.match(
      errorOf(
        PUBLISHER.replace('exchange = "orders"', `routing_key = "${long}"`),
      ),
      /connector\.bus\.publisher\.routing_key: is 256 bytes long/,
    );
  });

  test("an unknown key in the publisher table is refused with a suggestion", () => {
    assert.match(
      errorOf(PUBLISHER.replace("exchange =", "exchnage =")),
      /connector\.bus\.publisher.*exchnage/,
    );
  });
});

async function map(text: string) {
  const json = await parseHcl("app.hcl", text);
  return mapHcl([{ file: "app.hcl", text, json }], {}, "run");
}

describe("Mycel HCL: publisher", () => {
  const hcl = (publisher: string) => `
connector "events" {
  type = "sse"
}
connector "api" {
  type = "rest"
  port = 3000
}
connector "notifications" {
  type   = "mq"
  driver = "rabbitmq"
  publisher {
${publisher}
  }
}
flow "publish_order" {
  from {
    connector = "api"
    operation = "POST /orders"
  }
  to {
    connector = "notifications"
    target    = "order.created"
  }
}
`;

  test("the publisher block is read, and its flow gets no SSE operation", async () => {
    const m = await map(hcl(`
    exchange     = "notifications_exchange"
    routing_key  = "notification.email"
    persistent   = true
    content_type = "application/json"
    mandatory    = false`));
    assert.deepEqual(m.errors, []);
    const raw = m.raw as Record<
      string,
      Record<string, Record<string, unknown>>
    >;
    assert.deepEqual(raw.connector.notifications.publisher, {
      exchange: "notifications_exchange",
      routing_key: "notification.email",
      persistent: true,
      content_type: "application/json",
      mandatory: false,
    });
    assert.deepEqual(raw.flow.publish_order.to, {
      connector: "notifications",
      target: "order.created",
    });
    assert.ok(
      m.notes.some((n) => /always waits for the broker's confirm/.test(n.text)),
    );
  });

  test("immediate = true is refused: RabbitMQ does not publish immediate", async () => {
    const m = await map(hcl(`    exchange  = "x"\n    immediate = true`));
    assert.match(m.errors.join("\n"), /immediate.*RabbitMQ refuses it/);
  });
});

describe("Mycel HCL publisher end to end", () => {
  test("a Mycel config with a publisher block starts and publishes POST /orders, as written and as translated", async () => {
    const fixture =
      new URL("./fixtures/mycel/mq_publisher.hcl", import.meta.url)
        .pathname;
    const exchange = uniqueName("notifications");
    const queue = uniqueName("watch");
    const broker = await connectBroker();
    await watchExchange(broker, exchange, queue);
    const env = async () => ({
      EXCHANGE: exchange,
      API_PORT: String(await freePort()),
      SSE_PORT: String(await freePort()),
    });
    const { code, output: toml } = await runHypha(
      ["translate", fixture],
      await env(),
    );
    assert.equal(code, 0, toml);
    assert.match(toml, /\[connector\.notifications\.publisher\]/);
    assert.match(toml, /always waits for the broker's confirm/);
    try {
      for (
        const start of [
          async () => startHyphaAt(fixture, await env()),
          async () => startHypha(toml, await env()),
        ]
      ) {
        const hypha: Hypha = await start();
        try {
          await hypha.waitForLine(
            /INFO\s+publisher connected connector=notifications/,
          );
          const api = new URL(hypha.urls.api).origin;
          const answer = await publish(`${api}/orders`, {
            product: "tea",
            quantity: 2,
          });
          assert.equal(answer.status, 202, JSON.stringify(answer.body));
          const [message] = await takePublished(broker, queue, 1);
          assert.equal(message.routingKey, "order.created");
          assert.deepEqual(JSON.parse(message.body), {
            status: "pending",
            product: "tea",
            quantity: 2,
          });
          assert.equal(message.deliveryMode, 2);
          assert.equal(message.headers["x-hypha-flow"], "publish_order");
        } finally {
          await hypha.stop();
        }
      }
    } finally {
      await broker.cleanup({ queues: [queue], exchanges: [exchange] });
    }
  });
});
