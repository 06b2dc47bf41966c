/**
 * Prometheus metrics (prom-client). Almost every value is read at scrape
 * time from counters the hub and the sources already keep, so nothing is
 * counted per delivery; the flows add one count per event and flow and one
 * histogram observation per message sent.
 *
 * @module
 */

import { Counter, Histogram, Registry } from "prom-client";
import type { CallbackProbe } from "../auth/callback_probe.ts";
import type { Config } from "../config/schema.ts";
import type { FlowObserver, FlowSpec } from "../core/flows/flows.ts";
import type { CloseReason, Hub, HubStats } from "../core/hub/hub.ts";
import type { Publisher } from "../rabbitmq/publisher.ts";
import type { Source, SourceStats } from "../sources/source.ts";
import { registerAuthMetrics } from "./auth_metrics.ts";
import { registerClusterMetrics } from "./cluster_metrics.ts";
import { registerProcessMetrics } from "./process_metrics.ts";
import { registerPublisherMetrics } from "./publisher_metrics.ts";
import { define, type Sample } from "./scraped.ts";
import { registerPresenceMetrics } from "./presence_metrics.ts";

/** What the metrics read at scrape time. */
export interface Observed {
  readonly hubs: ReadonlyMap<string, Hub>;
  /** Filled by the app after the router exists; read lazily. */
  readonly sources: readonly Source[];
  /** Each SSE connector's auth callback, by connector name. */
  readonly callbacks?: Readonly<Record<string, CallbackProbe>>;
  /** RabbitMQ publishers by connector name; filled by the app later. */
  readonly publishers?: ReadonlyMap<string, Publisher>;
}

/** The registry and the flows' hook. */
export interface Metrics {
  readonly registry: Registry;
  readonly observer: FlowObserver;
}

const C = ["connector"];

const DISCONNECT_REASONS: readonly CloseReason[] = [
  "client",
  "slow",
  "lifetime",
  "expired",
  "shutdown",
  "unavailable",
];
/** Gap reasons always shown (at 0), so alerts need no absent() tricks. */
const GAP_REASONS = ["restart", "unknown", "malformed", "expired"];
/** Seconds; routing one message is usually well under a millisecond. */
const ENQUEUE_BUCKETS = [
  0.00005,
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.1,
  0.5,
];

/** Creates the registry for `config`; values come from `observed`. */
export function createMetrics(config: Config, observed: Observed): Metrics {
  const registry = new Registry();
  registerHubMetrics(registry, observed.hubs);
  registerSourceMetrics(registry, config, observed.sources);
  registerPublisherMetrics(registry, observed.publishers ?? new Map());
  registerProcessMetrics(registry);
  registerAuthMetrics(registry, observed.callbacks ?? {});
  return { registry, observer: createFlowCounters(config, registry) };
}

/** Per SSE connector: connections, disconnects, deliveries, gaps, history. */
function registerHubMetrics(
  registry: Registry,
  observed: ReadonlyMap<string, Hub>,
): void {
  const hubs = (read: (name: string, s: HubStats) => Sample[]) => () =>
    [...observed].flatMap(([name, hub]) => read(name, hub.stats()));
  const gauge = define(registry, "gauge");
  const counter = define(registry, "counter");
  gauge(
    "hypha_connections",
    "Open subscriber connections.",
    C,
    hubs((c, s) => [
      [{ connector: c }, s.connections],
    ]),
  );
  counter(
    "hypha_connections_total",
    "Subscriber connections opened.",
    C,
    hubs((c, s) => [[{ connector: c }, s.connections + sum(s.closed)]]),
  );
  counter(
    "hypha_disconnects_total",
    "Subscriber connections closed, by reason.",
    ["connector", "reason"],
    hubs((c, s) =>
      DISCONNECT_REASONS.map((r) => [{ connector: c, reason: r }, s.closed[r]])
    ),
  );
  counter(
    "hypha_deliveries_total",
    "Events queued to subscriber connections.",
    C,
    hubs((c, s) => [[{ connector: c }, s.deliveries]]),
  );
  counter(
    "hypha_gaps_total",
    "Gap events sent to resuming subscribers, by reason.",
    ["connector", "reason"],
    hubs((c, s) =>
      [...new Set([...GAP_REASONS, ...Object.keys(s.gapReasons)])].map((r) => [
        { connector: c, reason: r },
        s.gapReasons[r] ?? 0,
      ])
    ),
  );
  gauge(
    "hypha_history_events",
    "Events held in the resume history.",
    C,
    hubs((c, s) => [[{ connector: c }, s.historyEvents]]),
  );
  gauge(
    "hypha_history_bytes",
    "Bytes the resume history holds: frames plus audience names.",
    C,
    hubs((c, s) => [[{ connector: c }, s.historyBytes]]),
  );
  registerClusterMetrics(gauge, counter, hubs);
  registerPresenceMetrics(gauge, hubs);
}

/** Per source: rejections; per AMQP connector: acks, nacks, connection. */
function registerSourceMetrics(
  registry: Registry,
  config: Config,
  observed: readonly Source[],
): void {
  const sources = (read: (name: string, s: SourceStats) => Sample[]) => () =>
    observed.flatMap((s) => read(s.name, s.stats()));
  const gauge = define(registry, "gauge");
  const counter = define(registry, "counter");
  counter(
    "hypha_rejected_total",
    "Messages a source refused, by code.",
    ["source", "code"],
    sources((name, s) =>
      Object.entries(s.rejected).map(([code, n]) => [{ source: name, code }, n])
    ),
  );

  const mq = (name: string) => config.connector[name]?.type === "mq";
  const autoAck = (name: string) => {
    const c = config.connector[name];
    return c?.type === "mq" && c.consumer.auto_ack;
  };
  counter(
    "hypha_amqp_messages_total",
    "AMQP deliveries settled, by result (ack, nack).",
    ["connector", "result"],
    sources((name, s) => {
      if (!mq(name)) return [];
      // With auto_ack the broker settles on delivery: nothing is (n)acked.
      const acked = autoAck(name) ? 0 : s.delivered;
      const nacked = autoAck(name) ? 0 : sum(s.rejected);
      return [
        [{ connector: name, result: "ack" }, acked],
        [{ connector: name, result: "nack" }, nacked],
      ];
    }),
  );
  gauge(
    "hypha_amqp_connected",
    "1 while the connector is connected and consuming.",
    C,
    sources((name, s) =>
      mq(name) ? [[{ connector: name }, s.connected ? 1 : 0]] : []
    ),
  );
  counter(
    "hypha_amqp_reconnects_total",
    "Broker connections made after the first one.",
    C,
    sources((name, s) =>
      mq(name) ? [[{ connector: name }, s.reconnects ?? 0]] : []
    ),
  );
}

/** Per-flow event counts and the enqueue histogram: the flows' hook. */
function createFlowCounters(config: Config, registry: Registry): FlowObserver {
  const events = new Counter({
    name: "hypha_events_total",
    help:
      "Events sent through a flow to its target (an SSE connector or a RabbitMQ publisher).",
    labelNames: ["connector", "flow"],
    registers: [registry],
  });
  // Children bound once, so counting an event is a map lookup and an add.
  const byFlow = new Map(
    Object.entries(config.flow).map(([flow, f]) => {
      const child = events.labels({ connector: f.to.connector, flow });
      child.inc(0);
      return [flow, child];
    }),
  );
  const latency = new Histogram({
    name: "hypha_publish_to_enqueue_seconds",
    help:
      "From a message handed to the router to its events queued to every connection.",
    buckets: ENQUEUE_BUCKETS,
    registers: [registry],
  });
  return {
    event: (flow: FlowSpec) => byFlow.get(flow.name)?.inc(),
    sent: (seconds) => latency.observe(seconds),
  };
}

const sum = (counts: Readonly<Record<string, number>>) =>
  Object.values(counts).reduce((a, b) => a + b, 0);
