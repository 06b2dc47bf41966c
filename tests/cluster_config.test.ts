import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readFile } from "node:fs/promises";
import { parseConfig } from "../src/config/load.ts";
import { streamArguments } from "../src/cluster/stream_setup.ts";
import { streamLogOptions } from "../src/cluster/cluster_config.ts";
import { createLogger } from "../src/core/log.ts";
import { errorOf, SSE } from "./support/config_errors.ts";

const RABBIT = `
[connector.rabbit]
type = "mq"
driver = "rabbitmq"
url = "amqp://guest:guest@127.0.0.1:5672"
`;

describe("cluster config", () => {
  test("history.store naming no connector is an error that says so", () => {
    assert.equal(
      errorOf(`${SSE}[connector.sse.history]\nstore = "rabit"\n${RABBIT}`),
      'hypha.toml: connector.sse.history.store: no connector named "rabit" (did you mean "rabbit"?); store names the mq connector whose broker holds the stream',
    );
  });

  test("history.store naming a connector that is not mq is an error", () => {
    assert.match(
      errorOf(
        `${SSE}[connector.sse.history]\nstore = "api"\n[connector.api]\ntype = "rest"\nport = 3003\n`,
      ),
      /connector\.sse\.history\.store: connector "api" is of type rest; store names an mq connector/,
    );
  });

  test("a RabbitMQ source feeding a cluster must name a shared queue", () => {
    const message = errorOf(`${SSE}[connector.sse.history]
store = "rabbit"
${RABBIT}
[flow.feed.from]
connector = "rabbit"
[flow.feed.to]
connector = "sse"
operation = "broadcast"
`);
    assert.match(
      message,
      /connector\.rabbit\.queue\.name: feeds connector\.sse, whose history is a shared stream; name one queue that every instance shares/,
    );
  });

  test("the stream is hypha.<sse name> by default, with retention from ttl and max_bytes", () => {
    const { config } = parseConfig(
      `${SSE}[connector.sse.history]\nstore = "rabbit"\nttl = "1h"\nmax_bytes = "1GiB"\nsize = 500\n${RABBIT}`,
      "hypha.toml",
      {},
    );
    const sse = config.connector.sse;
    const rabbit = config.connector.rabbit;
    assert.ok(sse.type === "sse" && rabbit.type === "mq");
    const options = streamLogOptions(
      "sse",
      sse,
      "rabbit",
      rabbit,
      createLogger(() => {}),
    );
    assert.equal(options.stream.name, "hypha.sse");
    assert.equal(options.cacheSize, 500);
    assert.deepEqual(streamArguments(options.stream), {
      "x-queue-type": "stream",
      "x-max-age": "3600s",
      "x-max-length-bytes": 1073741824,
      "x-stream-max-segment-size-bytes": 134217728,
    });
  });

  test("config/examples/cluster.toml is valid", async () => {
    const text = await readFile(
      new URL("../config/examples/cluster.toml", import.meta.url).pathname,
      "utf8",
    );
    const { config } = parseConfig(text, "cluster.toml", {
      HYPHA_PUBLISH_TOKEN: "secret",
    });
    const sse = config.connector.sse;
    assert.ok(sse.type === "sse");
    assert.equal(sse.history.store, "rabbit");
  });
});
