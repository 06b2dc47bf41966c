/**
 * A Mercure hub as a cluster: two instances (Deno and Bun) on one RabbitMQ
 * stream, beside an ordinary SSE connector. The reference hub's conformance
 * cases run with the page subscribed on one instance and the updates
 * published on the other; an id from one resumes on the other; a RabbitMQ
 * message becomes a Mercure update through a publish flow.
 */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { launchChromium } from "./support/browser.ts";
import {
  cleanupCluster,
  type ClusterNames,
  clusterNames,
} from "./support/cluster.ts";
import { type Hypha, startHypha } from "./support/hypha.ts";
import {
  conformanceCases,
  mercureClusterConfig,
  publisherToken,
  publishUpdate,
  readEvents,
  runCase,
  subscriberToken,
} from "./support/mercure.ts";
import { onceOnDeno } from "./support/once.ts";
import { connectBroker } from "./support/rabbitmq.ts";

// A Deno and a Bun instance whichever runner.
onceOnDeno.describe("Mercure on two clustered instances, Deno and Bun", () => {
  let names: ClusterNames;
  let a: Hypha;
  let b: Hypha;
  let browser: Browser;
  before(async () => {
    names = clusterNames();
    a = await startHypha(mercureClusterConfig(names), {}, "deno");
    b = await startHypha(mercureClusterConfig(names), {}, "bun");
    browser = await launchChromium();
  });
  after(async () => {
    await browser.close();
    await Promise.all([a.stop(), b.stop()]);
    await cleanupCluster(names);
  });

  test("the conformance cases pass with the page subscribed on one instance and the updates published on the other", async () => {
    const page = await browser.newPage();
    await page.goto(new URL("/healthz", a.urls.hub).href);
    const token = await publisherToken();
    for (const c of conformanceCases()) {
      const r = await runCase(page, c, a.urls.hub, b.urls.hub, token);
      assert.equal(r.received, c.mustBeReceived, c.name);
      assert.equal(r.status, 200, c.name);
      assert.equal(r.body, "the update's id", c.name);
    }
  });

  test("an update's id from one instance resumes on the other, private updates replay only to the allowed, and the ordinary SSE connector runs beside", async () => {
    const topic = `https://example.com/log/${crypto.randomUUID()}`;
    const token = await publisherToken();
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const sent = await publishUpdate(a.urls.hub, {
        topics: [topic],
        data: `update ${n}`,
        private: n === 3,
      }, token);
      assert.equal(sent.status, 200);
      ids.push(sent.body);
    }
    const query = `?topic=${encodeURIComponent(topic)}`;
    const allowed = await subscriberToken(["https://example.com/log/{id}"]);
    const resumed = await fetch(b.urls.hub + query, {
      headers: { "last-event-id": ids[0], authorization: `Bearer ${allowed}` },
    });
    assert.equal(resumed.headers.get("last-event-id"), ids[0]);
    assert.equal(
      await readEvents(resumed, 2),
      `retry: 200\n\nid: ${ids[1]}\nevent: message\ndata: update 2\n\n` +
        `id: ${ids[2]}\nevent: message\ndata: update 3\n\n`,
    );
    // Anonymous: the private third update is not replayed; the marker is.
    await publishUpdate(a.urls.hub, { topics: [topic], data: "end" }, token);
    const anonymous = await fetch(
      b.urls.hub + query + "&lastEventID=" + encodeURIComponent(ids[0]),
    );
    const text = await readEvents(anonymous, 2);
    assert.match(text, /data: update 2\n\n.*data: end\n\n$/s);
    assert.doesNotMatch(text, /update 3/);
    const sse = await fetch(new URL("/healthz", b.urls.sse));
    assert.equal(sse.status, 200);
    await sse.body?.cancel();
  });

  test("a RabbitMQ message becomes a Mercure update through a publish flow, with its topics, type, id and privacy", async () => {
    const topic = `https://example.com/books/${crypto.randomUUID()}`;
    const query = `?topic=${encodeURIComponent(topic)}`;
    const streams = await Promise.all(
      [a, b].map((h) => fetch(h.urls.hub + query)),
    );
    const broker = await connectBroker();
    try {
      await broker.publish(names.exchange, "book.updated", {
        topic,
        private: true,
        id: "urn:book:secret",
        type: "book",
      });
      await broker.publish(names.exchange, "book.updated", {
        topic,
        id: "urn:book:1",
        type: "book",
      });
    } finally {
      await broker.cleanup({});
    }
    const expected =
      `retry: 200\n\nid: urn:book:1\nevent: book\ndata: {"topic":"${topic}","id":"urn:book:1","type":"book"}\n\n`;
    for (const stream of streams) {
      assert.equal(await readEvents(stream, 1), expected);
    }
  });
});
