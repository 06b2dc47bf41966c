import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type RawConnection,
  rawRequest,
  subscribe,
} from "./support/clients.ts";
import {
  adminStats,
  adminUrl,
  type Hypha,
  publish,
  RUNTIME,
  startHypha,
} from "./support/hypha.ts";
import { promtoolCheck, scrape } from "./support/metrics.ts";
import {
  type Broker,
  connectBroker,
  eventually,
  uniqueName,
} from "./support/rabbitmq.ts";
import {
  merge,
  rabbitConfig,
  REST_FLOWS,
  SEED_FLOWS,
  throwawayTopology,
} from "./support/config_builder.ts";

const flows = {
  notify_room: REST_FLOWS.notify_room,
  live_feed: SEED_FLOWS.live_feed,
};

describe(`/metrics after real traffic (${RUNTIME})`, () => {
  const exchange = uniqueName("x");
  const queue = uniqueName("q");
  let broker: Broker;
  let hypha: Hypha;

  before(async () => {
    broker = await connectBroker();
    hypha = await startHypha(merge(
      rabbitConfig(
        throwawayTopology(uniqueName("metrics"), exchange, queue),
        flows,
      ),
      { connector: { sse: { max_buffered: "16KiB" } } },
    ));
    await hypha.waitForLine(/INFO\s+connected connector=rabbit/);
  });

  after(async () => {
    await hypha?.stop();
    await broker?.cleanup({ queues: [queue], exchanges: [exchange] });
  });

  test("counters move by exactly the events, deliveries, slow disconnects and nacks the test caused; promtool accepts the text", async () => {
    const metricsUrl = adminUrl(hypha, "/metrics");
    const fresh = await scrape(metricsUrl);
    assert.equal(
      fresh.value("hypha_deliveries_total", { connector: "sse" }),
      0,
    );
    assert.equal(
      fresh.value("hypha_amqp_connected", { connector: "rabbit" }),
      1,
    );

    // k = 2 subscribers that never read, cut once their backlog passes 16 KiB.
    const slow: RawConnection[] = [];
    for (let i = 0; i < 2; i++) {
      slow.push(
        await rawRequest(
          hypha.urls.sse,
          "GET /events?room=slow HTTP/1.1\r\nHost: x\r\n\r\n",
          { read: false },
        ),
      );
    }
    await eventually(
      "2 connections",
      async () => (await adminStats(hypha)).hubs.sse.connections === 2,
    );
    const blob = "x".repeat(64 * 1024);
    let routed = 0;
    let delivered = 0;
    for (let n = 0; n < 2000; n++) {
      const r = await publish(new URL("/notify/slow", hypha.urls.api).href, {
        n,
        blob,
      });
      assert.equal(r.status, 202);
      routed++;
      delivered += r.body.delivered as number;
      if ((await adminStats(hypha)).hubs.sse.closed.slow === 2) break;
    }
    for (const s of slow) s.close();
    const big = routed;

    // Two readers in room r; n = 3 events to it over HTTP.
    const readers = [
      subscribe(`${hypha.urls.sse}?room=r`),
      subscribe(`${hypha.urls.sse}?room=r`),
    ];
    await Promise.all(readers.map((r) => r.opened));
    for (let n = 0; n < 3; n++) {
      const r = await publish(new URL("/notify/r", hypha.urls.api).href, { n });
      assert.equal(r.body.delivered, 2);
      delivered += 2;
      routed++;
    }
    // Over AMQP: two good messages to both readers, and one poison (nacked).
    await broker.publish(exchange, "feed.item", { n: "a" });
    await broker.publish(exchange, "feed.item", "not JSON");
    await broker.publish(exchange, "feed.item", { n: "b" });
    await Promise.all(readers.map((r) => r.waitFor(5)));
    delivered += 4;
    await eventually("ack 2 and nack 1 on /metrics", async () => {
      const s = await scrape(metricsUrl);
      return s.value("hypha_amqp_messages_total", {
            connector: "rabbit",
            result: "ack",
          }) === 2 &&
        s.value("hypha_amqp_messages_total", {
            connector: "rabbit",
            result: "nack",
          }) === 1;
    });

    const m = await scrape(metricsUrl);
    const sse = { connector: "sse" };
    assert.equal(
      m.value("hypha_events_total", { ...sse, flow: "notify_room" }),
      routed,
    );
    assert.equal(
      m.value("hypha_events_total", { ...sse, flow: "live_feed" }),
      2,
    );
    assert.equal(m.value("hypha_deliveries_total", sse), delivered);
    assert.equal(
      m.value("hypha_disconnects_total", { ...sse, reason: "slow" }),
      2,
    );
    assert.equal(m.value("hypha_connections", sse), 2);
    assert.equal(m.value("hypha_connections_total", sse), 4);
    assert.equal(
      m.value("hypha_rejected_total", { source: "rabbit", code: "not_json" }),
      1,
    );
    assert.equal(
      m.value("hypha_amqp_reconnects_total", { connector: "rabbit" }),
      0,
    );
    assert.equal(m.value("hypha_history_events", sse), routed + 2);
    assert.ok(m.value("hypha_history_bytes", sse)! > big * blob.length);
    assert.equal(m.value("hypha_publish_to_enqueue_seconds_count"), routed + 2);
    assert.equal(
      m.value("hypha_gaps_total", { ...sse, reason: "restart" }),
      0,
    );
    assert.ok(m.value("process_resident_memory_bytes")! > 1e6);
    assert.ok(m.value("process_cpu_seconds_total")! > 0);
    const start = m.value("process_start_time_seconds")!;
    assert.ok(Math.abs(start - Date.now() / 1000) < 600, String(start));
    assert.doesNotMatch(m.text, /room="|user_id="/);

    await promtoolCheck(m.text);
    for (const r of readers) r.close();
  });
});
