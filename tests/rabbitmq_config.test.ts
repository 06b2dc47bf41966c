import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { reconnectDelay } from "../src/rabbitmq/backoff.ts";
import { parseRabbit, rabbitErrorOf } from "./support/config_errors.ts";

const rabbit = parseRabbit;
const errorOf = rabbitErrorOf;

describe("RabbitMQ connector config", () => {
  test("defaults: localhost guest, 10 s heartbeat, 5 s first delay, forever, prefetch 100, manual ack", () => {
    const { settings } = rabbit("");
    assert.equal(settings.url, "amqp://guest:guest@localhost:5672/%2F");
    assert.equal(settings.safeUrl, "amqp://guest:***@localhost:5672/%2F");
    assert.equal(settings.connectionName, "rabbit");
    assert.equal(settings.heartbeatSeconds, 10);
    assert.equal(settings.reconnectDelayMs, 5000);
    assert.equal(settings.maxReconnects, 0);
    assert.equal(settings.prefetch, 100);
    assert.equal(settings.autoAck, false);
    assert.equal(settings.exchange, undefined);
    assert.equal(settings.deadLetter, undefined);
    // No queue name: a server-named queue that lives with the connection.
    assert.deepEqual(settings.queue, {
      name: "",
      durable: false,
      autoDelete: true,
      exclusive: true,
      arguments: {},
      passive: false,
    });
  });

  test("url wins over host and port; credentials are encoded and never shown", () => {
    const { settings } = rabbit(
      `url = "amqp://app:s3cr%40t@mq.example:5673/prod"\nhost = "ignored"\n`,
    );
    assert.equal(settings.url, "amqp://app:s3cr%40t@mq.example:5673/prod");
    assert.equal(settings.safeUrl, "amqp://app:***@mq.example:5673/prod");
    const parts = rabbit(
      `host = "mq"\nport = 5673\nusername = "app"\npassword = "p@ss/word"\nvhost = "prod"\n`,
    ).settings;
    assert.equal(parts.url, "amqp://app:p%40ss%2Fword@mq:5673/prod");
    assert.equal(parts.safeUrl, "amqp://app:***@mq:5673/prod");
  });

  test("a named queue with a DLQ gets x-dead-letter-exchange and default DLX/DLQ names", () => {
    const { settings } = rabbit(`
[connector.rabbit.exchange]
name = "events"
routing_key = ["feed.*", "room.#"]
[connector.rabbit.consumer]
queue = "sse"
[connector.rabbit.consumer.dlq]
enabled = true
`);
    assert.deepEqual(settings.deadLetter, {
      exchange: "sse.dlx",
      queue: "sse.dlq",
    });
    assert.deepEqual(settings.queue, {
      name: "sse",
      durable: true,
      autoDelete: false,
      exclusive: false,
      arguments: { "x-dead-letter-exchange": "sse.dlx" },
      passive: false,
    });
    assert.deepEqual(settings.exchange, {
      name: "events",
      type: "topic",
      durable: true,
      passive: false,
      arguments: {},
      bindingArguments: {},
      routingKeys: ["feed.*", "room.#"],
    });
    assert.equal(
      rabbit(`[connector.rabbit.exchange]\nname = "amq.topic"\n`)
        .settings.exchange?.passive,
      true,
    );
  });

  test("mistakes are refused with the key path; the URL is never echoed", () => {
    assert.equal(
      errorOf(`url = "http://u:hunter2@host"\n`),
      "hypha.toml: connector.rabbit.url: expected a URL like amqp://user:password@host:5672/vhost (amqp: or amqps:)",
    );
    assert.equal(
      errorOf(
        `[connector.rabbit.queue]\nname = "a"\n[connector.rabbit.consumer]\nqueue = "b"\n`,
      ),
      'hypha.toml: connector.rabbit.consumer.queue: names queue "b" but queue.name is "a"; give one of them',
    );
    assert.match(
      errorOf(`[connector.rabbit.exchange]\nname = "x"\ntype = "fan"\n`),
      /^hypha\.toml: connector\.rabbit\.exchange\.type: /,
    );
    assert.deepEqual(
      rabbit(
        `[connector.rabbit.consumer]\nauto_ack = true\n[connector.rabbit.consumer.dlq]\nenabled = true\n`,
      ).warnings.filter((w) => w.includes("auto_ack")).length,
      1,
    );
  });
});

describe("reconnectDelay", () => {
  test("starts at the first delay and doubles, with ±20 % jitter", () => {
    assert.equal(reconnectDelay(1, 5000, () => 0.5), 5000);
    assert.equal(reconnectDelay(2, 5000, () => 0.5), 10_000);
    assert.equal(reconnectDelay(3, 5000, () => 0.5), 20_000);
    assert.equal(reconnectDelay(1, 5000, () => 0), 4000);
    assert.equal(reconnectDelay(1, 5000, () => 0.999999), 6000);
  });

  test("never waits longer than 60 s, however many attempts failed", () => {
    for (const attempt of [5, 6, 50, 10_000]) {
      assert.ok(reconnectDelay(attempt, 5000, () => 0.99) <= 60_000);
    }
    assert.equal(reconnectDelay(100, 5000, () => 0.5), 60_000);
    // A first delay above the ceiling is taken as it is.
    assert.equal(reconnectDelay(3, 90_000, () => 0.5), 90_000);
  });
});
