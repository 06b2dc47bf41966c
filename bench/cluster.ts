/**
 * Cluster: publish-to-receive latency and events/s of a cluster of three
 * instances on one RabbitMQ stream (N clients each) beside one in-memory
 * instance (N clients); then R clients resuming from the stream after a full
 * restart of the cluster: time until all caught up, stream consumers opened.
 *
 *   deno run -A bench/cluster.ts [clients=1000] [events=300] [resumers=2000] [missed=200]
 *   bun run bench/cluster.ts ...
 */

import process from "node:process";
import { rawSubscribe, type RawSubscriber } from "../tests/support/clients.ts";
import {
  cleanupCluster,
  clusterConfig,
  type ClusterNames,
  clusterNames,
  clusterStats,
  startInstance,
} from "../tests/support/cluster.ts";
import {
  type Hypha,
  publish,
  RUNTIME,
  startHypha,
} from "../tests/support/hypha.ts";
import { report } from "./support.ts";

const perInstance = Number(process.argv[2] ?? 1000);
const events = Number(process.argv[3] ?? 300);
const resumers = Number(process.argv[4] ?? 2000);
const missed = Number(process.argv[5] ?? 200);
const BURST = 1000;
const PUBLISHERS = 8;
/** Batch publishing: BATCHES requests of BATCH events, 4 at a time. */
const BATCH = 100;
const BATCHES = 20;

let retried = 0;
/**
 * Publishes by REST. A pooled keep-alive connection the server closed as
 * idle (request_timeout) fails the request before it is sent: retry once.
 */
const post = (h: Hypha, body: unknown) =>
  publish(new URL("/notify", h.urls.api).href, body).catch(() => {
    retried++;
    return publish(new URL("/notify", h.urls.api).href, body);
  });
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/** Waits until the server has registered every client (its retry: came). */
async function opened(clients: readonly RawSubscriber[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (clients.some((c) => c.retries.length === 0)) {
    if (Date.now() > deadline) throw new Error("clients did not open");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Latency and throughput with `perInstance` idle clients on each instance. */
async function measure(label: string, instances: Hypha[]): Promise<void> {
  const crowd: RawSubscriber[] = [];
  for (const h of instances) {
    for (let i = 0; i < perInstance; i++) {
      crowd.push(await rawSubscribe(h.urls.sse, "/events"));
    }
  }
  const probes = await Promise.all(
    instances.map((h) => rawSubscribe(h.urls.sse, "/events")),
  );
  await opened([...crowd, ...probes]);
  let seen = 0;
  const samples: number[] = [];
  for (let n = 0; n < events; n++) {
    const started = performance.now();
    const answer = await post(instances[n % instances.length], { n });
    if (answer.status !== 202) throw new Error(`publish: ${answer.status}`);
    seen++;
    await Promise.all(probes.map((p) => p.waitFor(seen, 30_000)));
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: PUBLISHERS }, async () => {
    while (next < BURST) {
      const n = next++;
      await post(instances[n % instances.length], { n, burst: true });
    }
  }));
  seen += BURST;
  await Promise.all(probes.map((p) => p.waitFor(seen, 120_000)));
  const rate = BURST / ((performance.now() - started) / 1000);
  const batchStarted = performance.now();
  let nextBatch = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (nextBatch < BATCHES) {
      const b = nextBatch++;
      const body = Array.from(
        { length: BATCH },
        (_, i) => ({ n: b * BATCH + i }),
      );
      const answer = await post(instances[b % instances.length], body);
      if (answer.status !== 202) throw new Error(`batch: ${answer.status}`);
    }
  }));
  seen += BATCH * BATCHES;
  await Promise.all(probes.map((p) => p.waitFor(seen, 300_000)));
  const batchRate = BATCH * BATCHES /
    ((performance.now() - batchStarted) / 1000);
  console.log(
    `${label}: ${instances.length} instance(s) x ${perInstance} clients, ${RUNTIME}`,
  );
  report(`  publish -> receive p50`, percentile(samples, 0.5), "ms");
  report(`  publish -> receive p99`, percentile(samples, 0.99), "ms");
  report(`  events/s (${PUBLISHERS} publishers, ${BURST} events)`, rate, "/s");
  report(
    `  events/s (4 publishers, ${BATCHES} batches of ${BATCH})`,
    batchRate,
    "/s",
  );
  for (const c of [...crowd, ...probes]) c.close();
}

/** `resumers` clients resume after a full restart of the cluster. */
async function resumeAfterRestart(names: ClusterNames): Promise<void> {
  // A small local cache, so the resume is read back from the stream.
  const history = { size: 50 };
  let instances = [await startInstance(names, RUNTIME, history)];
  const mark = (await post(instances[0], { n: -1 })).body.id as string;
  for (let n = 0; n < missed; n++) {
    await post(instances[0], { n, pad: "x".repeat(200) });
  }
  await instances[0].stop();
  instances = [];
  for (let i = 0; i < 3; i++) {
    instances.push(await startInstance(names, RUNTIME, history));
  }
  const started = performance.now();
  const clients = await Promise.all(
    Array.from(
      { length: resumers },
      (_, i) =>
        rawSubscribe(instances[i % 3].urls.sse, "/events", {
          "last-event-id": mark,
        }),
    ),
  );
  await Promise.all(clients.map((c) => c.waitFor(missed, 120_000)));
  const elapsed = performance.now() - started;
  const stats = await Promise.all(instances.map(clusterStats));
  const gaps = clients.filter((c) => c.events.some((e) => e.event === "gap"));
  console.log(
    `resume after a full restart: ${resumers} clients, ${missed} missed events each, ${RUNTIME}`,
  );
  report("  time until all caught up", elapsed, "ms");
  report(
    "  stream consumers opened (3 instances)",
    stats.reduce((n, s) => n + s.stream_reads, 0),
    "",
  );
  report("  clients that got a gap", gaps.length, "");
  for (const c of clients) c.close();
  await Promise.all(instances.map((h) => h.stop()));
}

const memoryNames = clusterNames();
const memory = await startHypha(
  clusterConfig(memoryNames, { store: undefined, stream: undefined }),
);
try {
  await measure("in-memory", [memory]);
} finally {
  await memory.stop();
  await cleanupCluster(memoryNames);
}

const names = clusterNames();
const cluster: Hypha[] = [];
try {
  for (const runtime of [RUNTIME, RUNTIME, RUNTIME]) {
    cluster.push(await startInstance(names, runtime));
  }
  await measure("cluster", cluster);
} finally {
  await Promise.all(cluster.map((h) => h.stop()));
  await cleanupCluster(names);
}

const resumeNames = clusterNames();
try {
  await resumeAfterRestart(resumeNames);
} finally {
  await cleanupCluster(resumeNames);
}
if (retried > 0) console.log(`(${retried} publishes retried once)`);
process.exit(0);
