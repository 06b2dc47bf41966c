/**
 * Metrics of the RabbitMQ publishers (mq connectors with a `publisher`
 * table): messages confirmed, publishes refused or not confirmed, the
 * connection, and the confirms awaited. Read at scrape time from each
 * publisher's counters.
 *
 * @module
 */

import type { Registry } from "prom-client";
import type { Publisher, PublisherStats } from "../rabbitmq/publisher.ts";
import { define, type Sample } from "./scraped.ts";

const C = ["connector"];

/** Per RabbitMQ publisher: confirmed, refused and failed publishes. */
export function registerPublisherMetrics(
  registry: Registry,
  observed: ReadonlyMap<string, Publisher>,
): void {
  const publishers =
    (read: (name: string, s: PublisherStats) => Sample[]) => () =>
      [...observed].flatMap(([name, p]) => read(name, p.stats()));
  const gauge = define(registry, "gauge");
  const counter = define(registry, "counter");
  counter(
    "hypha_mq_published_total",
    "Messages a RabbitMQ publisher sent and the broker confirmed.",
    C,
    publishers((c, s) => [[{ connector: c }, s.published]]),
  );
  counter(
    "hypha_mq_publish_failed_total",
    "Publishes not done, by reason: refused (broker away, blocked, max_pending) or unconfirmed (nack, returned, timeout, connection lost).",
    ["connector", "reason"],
    publishers((c, s) => [
      [{ connector: c, reason: "refused" }, s.refused],
      [{ connector: c, reason: "unconfirmed" }, s.failed],
    ]),
  );
  gauge(
    "hypha_mq_publisher_connected",
    "1 while the RabbitMQ publisher is connected.",
    C,
    publishers((c, s) => [[{ connector: c }, s.connected ? 1 : 0]]),
  );
  gauge(
    "hypha_mq_publish_pending",
    "Publishes waiting for the broker's confirm.",
    C,
    publishers((c, s) => [[{ connector: c }, s.pending]]),
  );
}
