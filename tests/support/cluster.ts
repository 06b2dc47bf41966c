/**
 * A cluster for tests: instances of hypha on Deno and Bun sharing one
 * RabbitMQ stream, a REST source, and a RabbitMQ source on one shared
 * queue. Names are unique per test; `cleanup` deletes the stream, queue and
 * exchange.
 */

import { AMQPClient } from "@cloudamqp/amqp-client";
import { ADMIN, adminStats, type Hypha, publish, startHypha } from "./hypha.ts";
import { RABBITMQ_URL, SEED_FLOWS, uniqueName } from "./rabbitmq.ts";

/** The names one test's cluster uses. */
export interface ClusterNames {
  readonly stream: string;
  readonly queue: string;
  readonly exchange: string;
  /** connection_name of the mq connector; the stream's is `<this>.stream.sse`. */
  readonly connection: string;
}

/** Fresh names for a cluster. */
export function clusterNames(): ClusterNames {
  return {
    stream: uniqueName("stream"),
    queue: uniqueName("shared"),
    exchange: uniqueName("x"),
    connection: uniqueName("cluster"),
  };
}

/** The config of one instance; `history` adds lines to its history table. */
export function clusterConfig(
  names: ClusterNames,
  history = "",
  url = RABBITMQ_URL,
  /** `[service] workers`: delivery threads. */
  workers = 1,
): string {
  return `
[service]
shutdown_spread = "500ms"
workers = ${workers}
${ADMIN}
[connector.sse]
type = "sse"
host = "127.0.0.1"
port = 0
heartbeat_interval = "2s"
retry = "200ms"

[connector.sse.history]
store = "rabbit"
stream = "${names.stream}"
${history}

[connector.api]
type = "rest"
host = "127.0.0.1"
port = 0

[connector.rabbit]
type = "mq"
driver = "rabbitmq"
url = "${url}"
connection_name = "${names.connection}"
reconnect_delay = "200ms"
[connector.rabbit.exchange]
name = "${names.exchange}"
type = "topic"
durable = false
routing_key = "#"
[connector.rabbit.queue]
name = "${names.queue}"
durable = false

[flow.rest_feed.from]
connector = "api"
operation = "POST /notify"
[flow.rest_feed.to]
connector = "sse"
operation = "broadcast"

[flow.rest_room.from]
connector = "api"
operation = "POST /notify/:room"
[flow.rest_room.to]
connector = "sse"
operation = "send_to_room"
target = "input.room"
${SEED_FLOWS}`;
}

/** Starts one instance on `runtime`. */
export function startInstance(
  names: ClusterNames,
  runtime: "deno" | "bun",
  history = "",
  url = RABBITMQ_URL,
  workers = 1,
): Promise<Hypha> {
  return startHypha(clusterConfig(names, history, url, workers), {}, runtime);
}

/** Publishes `{ n }` by REST on `instance`; returns the event's id. */
export async function publishN(
  instance: Hypha,
  n: number,
  path = "/notify",
): Promise<string> {
  const answer = await publish(new URL(path, instance.urls.api).href, { n });
  if (answer.status !== 202 || typeof answer.body.id !== "string") {
    throw new Error(
      `publish ${n}: ${answer.status} ${JSON.stringify(answer.body)}`,
    );
  }
  return answer.body.id;
}

/** Deletes what the cluster declared on the broker. */
export async function cleanupCluster(
  names: ClusterNames,
  url = RABBITMQ_URL,
): Promise<void> {
  const client = new AMQPClient(url, undefined, null);
  await client.connect();
  const channel = await client.channel();
  await channel.queueDelete(names.stream).catch(() => {});
  await channel.queueDelete(names.queue).catch(() => {});
  await channel.exchangeDelete(names.exchange).catch(() => {});
  // Presence's fanout (auto-delete: normally gone with its last queue).
  await channel.exchangeDelete(`${names.stream}.presence`).catch(() => {});
  await client.close().catch(() => {});
}

/** The stream log counters of `instance`'s SSE connector, from GET /stats. */
export async function clusterStats(
  instance: Hypha,
): Promise<{ attached: boolean; stream_reads: number; tail_offset: number }> {
  return (await adminStats(instance)).hubs.sse.cluster;
}
