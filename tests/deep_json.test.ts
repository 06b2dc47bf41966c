import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  checkJsonMessage,
  isJsonObject,
  jsonDepthWithin,
} from "../src/core/flows/json.ts";
import { createLogger, internalErrorLog } from "../src/core/log.ts";
import { internalError } from "../src/runtime/internal_error.ts";
import type { Listener } from "../src/core/http/http.ts";
import { type Hypha, RUNTIME, startHypha } from "./support/hypha.ts";
import {
  type Broker,
  connectBroker,
  eventually,
  sourceStats,
  uniqueName,
} from "./support/rabbitmq.ts";
import { rabbitConfig, RABBITMQ_URL } from "./support/config_builder.ts";

/** `{"a":` x depth, 1, `}` x depth: what the attacker sent. */
const deep = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);

describe("JSON message rules", () => {
  test("isJsonObject accepts objects only", () => {
    assert.deepEqual(
      [{}, [], null, "x", 1, { a: [] }].map(isJsonObject),
      [true, false, false, false, false, true],
    );
  });

  test("jsonDepthWithin counts objects and arrays, and never overflows the stack", () => {
    assert.equal(jsonDepthWithin({}, 1), true);
    assert.equal(jsonDepthWithin({ a: [{}] }, 3), true);
    assert.equal(jsonDepthWithin({ a: [{}] }, 2), false);
    assert.equal(jsonDepthWithin(JSON.parse(deep(64)), 64), true);
    assert.equal(jsonDepthWithin(JSON.parse(deep(65)), 64), false);
    assert.equal(jsonDepthWithin(JSON.parse(deep(100_000)), 64), false);
  });

  test("checkJsonMessage says what is wrong", () => {
    assert.deepEqual(checkJsonMessage([1]), {
      ok: false,
      code: "not_object",
      reason: "body is an array, expected a JSON object",
    });
    assert.deepEqual(checkJsonMessage(JSON.parse(deep(65))), {
      ok: false,
      code: "too_deep",
      reason: "body nests deeper than 64 levels",
    });
  });
});

describe("the 500 path", () => {
  test("logs the error once per window, never the request, and counts the rest", async () => {
    const lines: string[] = [];
    const report = internalErrorLog(createLogger((l) => lines.push(l)));
    const listener = {
      connector: "api",
      onError: (error: unknown) => report("api", error),
    } as unknown as Listener;
    const response = internalError(
      listener,
      new RangeError("Maximum call stack size exceeded"),
    );
    assert.equal(response.status, 500);
    assert.equal(await response.text(), "internal error\n");
    internalError(listener, new RangeError("Maximum call stack size exceeded"));
    assert.equal(lines.length, 1);
    assert.match(
      lines[0],
      /ERROR internal error; answered 500 connector=api error=RangeError reason="Maximum call stack size exceeded"$/,
    );
  });
});

describe(`deeply nested JSON from RabbitMQ (${RUNTIME})`, () => {
  const exchange = uniqueName("x");
  const queue = uniqueName("q");
  const dlx = uniqueName("dlx");
  const dlq = uniqueName("dlq");
  let broker: Broker;
  let hypha: Hypha;

  before(async () => {
    broker = await connectBroker();
    hypha = await startHypha(rabbitConfig({
      url: RABBITMQ_URL,
      connection_name: uniqueName("deep"),
      exchange: { name: exchange, durable: false },
      consumer: { queue, dlq: { enabled: true, exchange: dlx, queue: dlq } },
    }));
    await hypha.waitForLine(/INFO\s+connected connector=rabbit/);
  });
  after(async () => {
    await hypha?.stop();
    await broker?.cleanup({ queues: [queue, dlq], exchanges: [exchange, dlx] });
  });

  test("100,000 levels are nacked to the DLQ with a reason; 64 are delivered", async () => {
    await broker.publish(exchange, "feed.item", deep(100_000));
    await broker.publish(exchange, "feed.item", deep(64));
    await eventually(
      "both handled",
      async () => (await sourceStats(hypha)).received >= 2,
    );
    const stats = await sourceStats(hypha);
    assert.deepEqual(stats.rejected, { too_deep: 1 });
    assert.equal(stats.delivered, 1);
    let dead: string[] = [];
    await eventually("the deep message in the DLQ", async () => {
      dead = dead.concat(await broker.drain(dlq));
      return dead.length >= 1;
    });
    assert.equal(dead[0], deep(100_000));
    await hypha.waitForLine(
      /WARN\s+rejected message connector=rabbit code=too_deep reason="body nests deeper than 64 levels"/,
    );
  });
});
