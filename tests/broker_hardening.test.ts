import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { rateLimited } from "../src/core/rate_limited.ts";
import { createBackoff } from "../src/rabbitmq/backoff.ts";
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
import {
  merge,
  rabbitConfig,
  throwawayTopology,
} from "./support/config_builder.ts";

describe("reconnect backoff", () => {
  test("doubles from the first retry on, and starts over after a good connection", () => {
    const backoff = createBackoff(5000, () => 0.5);
    const delays = [1, 2, 3, 4, 5, 6].map(() => backoff.next());
    assert.deepEqual(delays, [5000, 10_000, 20_000, 40_000, 60_000, 60_000]);
    backoff.reset();
    assert.deepEqual([backoff.next(), backoff.next()], [5000, 10_000]);
  });
});

describe("rateLimited", () => {
  test("logs the first call, then the count of the suppressed ones when the window ends", async () => {
    const limit = rateLimited(100);
    const logged: [string, number][] = [];
    let flushed!: () => void;
    const done = new Promise<void>((resolve) => flushed = resolve);
    for (let i = 0; i < 10; i++) {
      limit("a", (n) => {
        logged.push([`a${i}`, n]);
        if (n > 0) flushed();
      });
    }
    limit("b", (n) => logged.push(["b", n]));
    await done;
    // b had nothing suppressed: no summary line for it.
    assert.deepEqual(logged, [["a0", 0], ["b", 0], ["a9", 9]]);
    limit("a", (n) => logged.push(["again", n]));
    assert.deepEqual(logged.at(-1), ["again", 0]);
  });

  test("flush (at stop) logs every open window's count at once and closes the windows", () => {
    const limit = rateLimited(60_000);
    const logged: [string, number][] = [];
    for (let i = 0; i < 5; i++) limit("a", (n) => logged.push([`a${i}`, n]));
    limit("b", (n) => logged.push(["b", n]));
    limit.flush();
    assert.deepEqual(logged, [["a0", 0], ["b", 0], ["a4", 4]]);
    // A closed window: the next call is logged, not counted.
    limit("a", (n) => logged.push(["again", n]));
    assert.deepEqual(logged.at(-1), ["again", 0]);
  });
});

describe(`RabbitMQ rejection log at shutdown (${RUNTIME})`, () => {
  const exchange = uniqueName("x");
  const queue = uniqueName("q");
  let broker: Broker;

  before(async () => {
    broker = await connectBroker();
  });
  after(async () => {
    await broker?.cleanup({ queues: [queue], exchanges: [exchange] });
  });

  test("rejections counted in a window that SIGTERM cuts short are logged before the exit", async () => {
    const hypha = await startHypha(rabbitConfig(
      throwawayTopology(uniqueName("poison-stop"), exchange, queue),
    ));
    try {
      await hypha.waitForLine(/INFO\s+connected connector=rabbit/);
      for (let i = 0; i < 5; i++) {
        await broker.publish(exchange, "feed.item", `garbage ${i}`);
      }
      await eventually(
        "5 rejections received",
        async () => (await sourceStats(hypha)).rejected.not_json === 5,
        30_000,
      );
    } finally {
      assert.equal(await hypha.stop("SIGTERM"), 0);
    }
    // The first is logged at once; the other 4 wait for the window's end
    // (10 s), which the shutdown comes before.
    assert.ok(
      hypha.lines.some((l) =>
        /WARN\s+rejected messages .*code=not_json count=4/.test(l)
      ),
      hypha.lines.join("\n"),
    );
  });
});

describe(`RabbitMQ rejection log (${RUNTIME})`, () => {
  const exchange = uniqueName("x");
  const queue = uniqueName("q");
  let broker: Broker;
  let hypha: Hypha;

  before(async () => {
    broker = await connectBroker();
    hypha = await startHypha(rabbitConfig(
      throwawayTopology(uniqueName("poison-flood"), exchange, queue),
    ));
    await hypha.waitForLine(/INFO\s+connected connector=rabbit/);
  });
  after(async () => {
    await hypha?.stop();
    await broker?.cleanup({ queues: [queue], exchanges: [exchange] });
  });

  test("10,000 poison messages: the logged counts add up to /stats", async () => {
    const total = 10_000;
    for (let i = 0; i < total; i += 500) {
      await Promise.all(
        Array.from(
          { length: 500 },
          (_, j) => broker.publish(exchange, "feed.item", `garbage ${i + j}`),
        ),
      );
    }
    const logged = () => {
      let sum = 0;
      for (const line of hypha.lines) {
        if (
          /WARN\s+rejected message connector=rabbit code=not_json/.test(line)
        ) {
          sum++;
        }
        const more = /WARN\s+rejected messages .*code=not_json count=(\d+)/
          .exec(line);
        if (more) sum += Number(more[1]);
      }
      return sum;
    };
    await eventually(
      "every rejection received",
      async () => (await sourceStats(hypha)).received >= total,
      60_000,
    );
    const stats = await sourceStats(hypha);
    assert.equal(stats.rejected.not_json, total);
    // The last window's count is flushed when it ends (10 s after it began).
    await eventually(
      `logged rejections adding up to ${total} (now ${logged()})`,
      () => Promise.resolve(logged() === total),
      30_000,
    );
    const lines = hypha.lines.filter((l) => /rejected message/.test(l));
    assert.ok(lines.length < 20, `${lines.length} lines`);
  });
});

describe(`RabbitMQ topology check (${RUNTIME})`, () => {
  const exchange = uniqueName("x");
  const queue = uniqueName("q");
  let broker: Broker;
  let hypha: Hypha;

  before(async () => {
    broker = await connectBroker();
    hypha = await startHypha(rabbitConfig(
      merge(throwawayTopology(uniqueName("topology"), exchange, queue), {
        topology_check: "500ms",
      }),
    ));
    await hypha.waitForLine(/INFO\s+connected connector=rabbit/);
  });
  after(async () => {
    await hypha?.stop();
    await broker?.cleanup({ queues: [queue], exchanges: [exchange] });
  });

  test("an exchange deleted under a running consumer is declared again, with a WARN line", async () => {
    const all = subscribe(hypha.urls.sse);
    await all.opened;
    await broker.publish(exchange, "feed.item", { n: 1 });
    await waitForNumbers(all, [1]);

    await broker.channel.exchangeDelete(exchange);
    await hypha.waitForLine(
      new RegExp(
        `WARN\\s+topology deleted under a running consumer.*missing="exchange ${exchange}"`,
      ),
    );
    // A passive declare that fails closes its channel: one per probe.
    await eventually("the exchange declared again", async () => {
      const probe = await broker.channel.connection.channel();
      try {
        await probe.exchangeDeclare(exchange, "topic", { passive: true });
        return true;
      } catch {
        return false;
      } finally {
        if (!probe.closed) await probe.close().catch(() => {});
      }
    });
    // The binding is back too: a publish reaches the subscriber again.
    await eventually("an event through the new binding", async () => {
      await broker.publish(exchange, "feed.item", { n: 2 });
      return all.events.some((e) => JSON.parse(e.data).n === 2);
    });
    all.close();
  });
});
