import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { subscribe } from "./support/clients.ts";
import {
  adminStats,
  type Hypha,
  RUNTIME,
  startHypha,
} from "./support/hypha.ts";
import {
  type Broker,
  connectBroker,
  eventually,
  uniqueName,
  waitForNumbers,
} from "./support/rabbitmq.ts";
import { flow, rabbitConfig, RABBITMQ_URL } from "./support/config_builder.ts";

const FEED = {
  feed: flow(
    { connector: "rabbit", operation: "feed.#" },
    { connector: "sse", operation: "broadcast" },
  ),
};

const QUORUM = {
  "x-queue-type": "quorum",
  "x-message-ttl": 60000,
  "x-max-length": 1000,
};

async function consuming(hypha: Hypha): Promise<boolean> {
  return (await adminStats(hypha)).sources.rabbit.consuming;
}

describe(`queues and exchanges that hypha does not own (${RUNTIME})`, () => {
  let broker: Broker;
  const exchange = uniqueName("x");
  const queues: string[] = [];
  const exchanges = [exchange];

  before(async () => {
    broker = await connectBroker();
    await broker.channel.exchangeDeclare(exchange, "topic", { durable: false });
  });
  after(async () => await broker?.cleanup({ queues, exchanges }));

  /** A fresh channel: a refused declare closes the one it ran on. */
  const channel = async () => (await broker.channel.connection.channel());

  test("a pre-existing quorum queue with arguments is consumed with create_if_missing = false", async () => {
    const queue = uniqueName("quorum");
    queues.push(queue);
    await broker.channel.queueDeclare(queue, { durable: true }, QUORUM);
    const hypha = await startHypha(rabbitConfig(
      {
        url: RABBITMQ_URL,
        connection_name: uniqueName("ops"),
        queue: { name: queue, create_if_missing: false },
        exchange: {
          name: exchange,
          create_if_missing: false,
          routing_key: "feed.#",
        },
      },
      FEED,
    ));
    try {
      await hypha.waitForLine(/INFO\s+ready/);
      assert.equal(await consuming(hypha), true);
      const all = subscribe(hypha.urls.sse);
      await all.opened;
      await broker.publish(exchange, "feed.item", { n: 1 });
      assert.deepEqual(await waitForNumbers(all, [1]), [1]);
      all.close();
      // Still the queue ops declared: the same arguments are equivalent.
      await (await channel()).queueDeclare(queue, { durable: true }, QUORUM);
    } finally {
      await hypha.stop();
    }
  });

  test("a missing queue is a clear ERROR, nothing claims ready, and it is consumed once it appears", async () => {
    const queue = uniqueName("late");
    queues.push(queue);
    const hypha = await startHypha(rabbitConfig(
      {
        url: RABBITMQ_URL,
        connection_name: uniqueName("wait"),
        queue: { name: queue, create_if_missing: false },
      },
      FEED,
    ));
    try {
      const error = await hypha.waitForLine(/ERROR\s+queue does not exist/);
      assert.match(
        error,
        /waiting for it to be declared \(queue\.create_if_missing = false\)/,
      );
      assert.match(error, new RegExp(`queue=${queue}`));
      assert.match(error, /NOT_FOUND - no queue/);
      await hypha.waitForLine(/WARN\s+not ready yet.*waiting="rabbit: /);
      assert.ok(!hypha.lines.some((l) => /INFO\s+(ready|connected)/.test(l)));
      assert.equal(await consuming(hypha), false);

      const ch = await channel();
      await ch.queueDeclare(queue, { durable: true }, QUORUM);
      await ch.queueBind(queue, exchange, "feed.#");
      await hypha.waitForLine(/INFO\s+connected/, 90_000);
      await hypha.waitForLine(/INFO\s+ready/);
      assert.equal(await consuming(hypha), true);
      const all = subscribe(hypha.urls.sse);
      await all.opened;
      await broker.publish(exchange, "feed.item", { n: 2 });
      assert.deepEqual(await waitForNumbers(all, [2]), [2]);
      all.close();
    } finally {
      await hypha.stop();
    }
  });

  test("a queue that exists with other arguments is a clear ERROR naming it and the difference", async () => {
    const queue = uniqueName("other");
    queues.push(queue);
    await (await channel()).queueDeclare(queue, { durable: true }, QUORUM);
    const hypha = await startHypha(rabbitConfig(
      {
        url: RABBITMQ_URL,
        connection_name: uniqueName("mismatch"),
        queue: { name: queue },
      },
      FEED,
    ));
    try {
      const error = await hypha.waitForLine(
        /ERROR\s+queue exists with other arguments or settings \(the reason says which\)/,
      );
      assert.match(
        error,
        /make queue\.args \(or durable\) match it, or set queue\.create_if_missing = false to use it as it is/,
      );
      assert.match(error, new RegExp(`queue=${queue}`));
      assert.match(
        error,
        /PRECONDITION_FAILED - inequivalent arg 'x-[a-z-]+' for queue '[^']+' in vhost '\/': received none but current is the value/,
      );
      await hypha.waitForLine(/WARN\s+not ready yet/);
      assert.ok(!hypha.lines.some((l) => /INFO\s+(ready|connected)/.test(l)));
      // It keeps trying (an operator may fix the queue), and says so again.
      await eventually(
        "a second ERROR",
        () =>
          Promise.resolve(
            hypha.lines.filter((l) => /ERROR\s+queue exists/.test(l)).length >=
              2,
          ),
      );
    } finally {
      await hypha.stop();
    }
  });

  test("queue.args, exchange.args and binding_args are declared as given", async () => {
    const queue = uniqueName("declared");
    const headers = uniqueName("headers");
    queues.push(queue);
    exchanges.push(headers);
    const hypha = await startHypha(rabbitConfig(
      {
        url: RABBITMQ_URL,
        connection_name: uniqueName("args"),
        queue: {
          name: queue,
          args: {
            "x-queue-type": "quorum",
            "x-message-ttl": 60000,
            "x-max-length": 1000,
          },
        },
        exchange: {
          name: headers,
          type: "headers",
          durable: false,
          routing_key: "",
          args: { "alternate-exchange": exchange },
          binding_args: { "x-match": "all", tier: "gold" },
        },
      },
      {
        all: flow({ connector: "rabbit" }, {
          connector: "sse",
          operation: "broadcast",
        }),
      },
    ));
    try {
      await hypha.waitForLine(/INFO\s+ready/);
      // Equivalent declarations succeed only with the same arguments.
      await (await channel()).queueDeclare(queue, { durable: true }, QUORUM);
      await (await channel()).exchangeDeclare(headers, "headers", {
        durable: false,
      }, { "alternate-exchange": exchange });
      await assert.rejects(
        (await channel()).queueDeclare(queue, { durable: true }, {}),
        /PRECONDITION_FAILED/,
      );

      const all = subscribe(hypha.urls.sse);
      await all.opened;
      await broker.publish(headers, "", { n: 1 }, { tier: "silver" });
      await broker.publish(headers, "", { n: 2 }, { tier: "gold" });
      assert.deepEqual(await waitForNumbers(all, [2]), [2]);
      all.close();
    } finally {
      await hypha.stop();
    }
  });
});
