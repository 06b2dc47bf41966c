import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { subscribe } from "./support/clients.ts";
import {
  type Hypha,
  RUNTIME,
  startHyphaAt,
  writeConfig,
} from "./support/hypha.ts";
import {
  connectBroker,
  freePort,
  range,
  uniqueName,
  waitForNumbers,
} from "./support/rabbitmq.ts";
import {
  type ConfigInput,
  merge,
  rabbit,
  SEED_FLOWS,
  sse,
  throwawayTopology,
} from "./support/config_builder.ts";

function config(port: number, exchange: string, queue: string): ConfigInput {
  return {
    connector: {
      sse: sse({ port, retry: "500ms" }),
      rabbit: rabbit(merge(
        throwawayTopology(uniqueName("grace"), exchange, queue),
        { reconnect_delay: "200ms" },
      )),
    },
    flow: { live_feed: SEED_FLOWS.live_feed },
  };
}

describe(`startup grace (${RUNTIME})`, () => {
  test("killed with -9 while messages queue: the restarted process holds them until its subscribers are back, and they get every one after a gap", async () => {
    const exchange = uniqueName("x");
    const queue = uniqueName("grace");
    const port = await freePort();
    const file = await writeConfig(config(port, exchange, queue));
    const broker = await connectBroker();
    let hypha: Hypha | undefined;
    try {
      hypha = await startHyphaAt(file.path);
      const client = subscribe(hypha.urls.sse, { types: ["gap"] });
      await client.opened;
      await broker.publish(exchange, "feed.item", { n: 1 });
      await waitForNumbers(client, [1]);

      await hypha.stop("SIGKILL");
      for (const n of range(2, 41)) {
        await broker.publish(exchange, "feed.item", { n });
      }
      hypha = await startHyphaAt(file.path);
      await hypha.waitForLine(
        /holding queued messages for returning subscribers .*messages=40/,
      );
      await waitForNumbers(client, range(2, 41));
      const after = client.events.slice(1);
      assert.equal(after[0].type, "gap");
      assert.equal(JSON.parse(after[0].data).reason, "restart");
      assert.deepEqual(
        after.slice(1).map((e) => JSON.parse(e.data).n),
        range(2, 41),
      );
      client.close();
    } finally {
      await hypha?.stop();
      await broker.cleanup({ queues: [queue], exchanges: [exchange] });
      await file.remove();
    }
  });

  test("an empty queue at start is consumed at once, with no hold", async () => {
    const exchange = uniqueName("x");
    const queue = uniqueName("grace");
    const file = await writeConfig(config(await freePort(), exchange, queue));
    const broker = await connectBroker();
    let hypha: Hypha | undefined;
    try {
      hypha = await startHyphaAt(file.path);
      await hypha.waitForLine(/INFO\s+ready/);
      assert.equal(hypha.lines.some((l) => /holding/.test(l)), false);
    } finally {
      await hypha?.stop();
      await broker.cleanup({ queues: [queue], exchanges: [exchange] });
      await file.remove();
    }
  });
});
