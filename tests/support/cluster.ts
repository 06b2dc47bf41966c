/**
 * A cluster for tests: instances of hypha on Deno and Bun sharing one
 * RabbitMQ stream, a REST source, and a RabbitMQ source on one shared
 * queue. Names are unique per test; `cleanup` deletes the stream, queue and
 * exchange.
 */

import { AMQPClient } from "@cloudamqp/amqp-client";
import { adminStats, type Hypha, publish, startHypha } from "./hypha.ts";
import { uniqueName } from "./rabbitmq.ts";
import {
  ADMIN,
  type ConfigInput,
  type HistoryInput,
  merge,
  type Overrides,
  rabbit,
  RABBITMQ_URL,
  rest,
  REST_FLOWS,
  SEED_FLOWS,
  sse,
  throwawayTopology,
} from "./config_builder.ts";

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

/** The config of one instance; `history` adds to its history table. */
export function clusterConfig(
  names: ClusterNames,
  history: Overrides<HistoryInput> = {},
  url = RABBITMQ_URL,
  /** `[service] workers`: delivery threads. */
  workers = 1,
): ConfigInput {
  return merge<ConfigInput>({
    service: { shutdown_spread: "500ms", workers },
    connector: {
      sse: sse({
        heartbeat_interval: "2s",
        retry: "200ms",
        history: merge<HistoryInput>(
          { store: "rabbit", stream: names.stream },
          history,
        ),
      }),
      api: rest(),
      rabbit: merge(
        rabbit(
          throwawayTopology(names.connection, names.exchange, names.queue),
        ),
        { url, reconnect_delay: "200ms" },
      ),
    },
    flow: {
      rest_feed: REST_FLOWS.notify_all,
      rest_room: REST_FLOWS.notify_room,
      ...SEED_FLOWS,
    },
  }, ADMIN);
}

/** Starts one instance on `runtime`. */
export function startInstance(
  names: ClusterNames,
  runtime: "deno" | "bun",
  history: Overrides<HistoryInput> = {},
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
