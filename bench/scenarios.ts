/**
 * The scenarios of bench/compare.ts, each run against one server with the
 * load generator of bench/sse_load.ts. Server CPU is utime + stime of the
 * server's process over the window from the first publish until every
 * client had every event, divided by the events delivered.
 */

import type { AMQPChannel } from "@cloudamqp/amqp-client";
import { cpuMs, cpuSplitMs, rssMiB } from "./support.ts";
import type { Server } from "./servers.ts";
import {
  Latencies,
  openClients,
  publishAtRate,
  sleep,
  type SseClient,
  stampedBody,
  totalEvents,
  waitUntil,
} from "./sse_load.ts";

/** A measured cost: CPU µs per delivered event and p99 in ms. */
export interface Cost {
  readonly us: number;
  readonly p99: number;
  readonly delivered: number;
  readonly expected: number;
}

export const ROOMS = 100;
export const roomOf = (i: number): string => `r${i % ROOMS}`;

/** How long to wait for stragglers after the last publish. */
const DRAIN_MS = 30_000;

/** Connects `count` clients; connects/s and KB of server RSS per client. */
export async function connectIdle(
  server: Server,
  count: number,
  latencies: Latencies,
): Promise<{ clients: SseClient[]; perSecond: number; kb: number }> {
  const rssBefore = rssMiB(server.pid);
  await server.profiler?.start();
  const started = performance.now();
  const clients = await openClients(
    count,
    () => server.subscribeUrl(),
    latencies,
  );
  const perSecond = count / ((performance.now() - started) / 1000);
  await server.profiler?.stop(`${server.name} connects`);
  // Let lazy allocations and the GC settle before reading RSS.
  await sleep(3000);
  const kb = ((rssMiB(server.pid) - rssBefore) * 1024) / count;
  return { clients, perSecond, kb };
}

/** Opens `count` clients spread over the rooms. */
export function connectRooms(
  server: Server,
  count: number,
  latencies: Latencies,
): Promise<SseClient[]> {
  return openClients(count, (i) => server.subscribeUrl(roomOf(i)), latencies);
}

/** Measures `publish` at `rate` for `seconds`, expecting `perEvent` each. */
export async function measure(
  server: Server,
  /** Names the window's CPU profile, when the server is profiled. */
  label: string,
  clients: readonly SseClient[],
  latencies: Latencies,
  expected: number,
  run: () => Promise<unknown>,
): Promise<Cost> {
  const before = totalEvents(clients);
  latencies.reset();
  latencies.recording = true;
  await server.profiler?.start();
  const cpuBefore = cpuMs(server.pid);
  const splitBefore = cpuSplitMs(server.pid);
  await run();
  await waitUntil(
    () => totalEvents(clients) - before >= expected,
    DRAIN_MS,
  );
  const cpu = cpuMs(server.pid) - cpuBefore;
  const split = cpuSplitMs(server.pid);
  await server.profiler?.stop(`${server.name} ${label}`);
  latencies.recording = false;
  const delivered = totalEvents(clients) - before;
  // The shape behind the p99, on stderr: a tail or a shifted whole.
  console.error(
    `  ${server.name} ${label}: latency ms p50 ${pct(latencies, 50)} p90 ${
      pct(latencies, 90)
    } p99 ${pct(latencies, 99)} max ${pct(latencies, 100)}; cpu ms user ${
      split.user - splitBefore.user
    } system ${split.system - splitBefore.system}`,
  );
  return {
    us: (cpu * 1000) / Math.max(1, delivered),
    p99: latencies.percentile(99),
    delivered,
    expected,
  };
}

const pct = (l: Latencies, p: number) => l.percentile(p).toFixed(1);

/** Broadcast at `rate` events/s for `seconds` to every client. */
export function broadcast(
  server: Server,
  clients: readonly SseClient[],
  latencies: Latencies,
  rate: number,
  seconds: number,
): Promise<Cost> {
  const events = Math.round(rate * seconds);
  return measure(
    server,
    `broadcast ${clients.length}x${rate}`,
    clients,
    latencies,
    events * clients.length,
    () => publishAtRate(rate, seconds, () => server.publish(stampedBody())),
  );
}

/**
 * Room events into `clients` (spread over ROOMS): `send(i)` called
 * `sendsPerSecond` times a second for `seconds`, each carrying
 * `eventsPerSend` events.
 */
function pacedRoomEvents(
  server: Server,
  clients: readonly SseClient[],
  latencies: Latencies,
  sendsPerSecond: number,
  seconds: number,
  eventsPerSend: number,
  send: (i: number) => Promise<unknown>,
  label: string,
): Promise<Cost> {
  const events = Math.round(sendsPerSecond * seconds) * eventsPerSend;
  return measure(
    server,
    label,
    clients,
    latencies,
    (events * clients.length) / ROOMS,
    () => publishAtRate(sendsPerSecond, seconds, send),
  );
}

/** Room events at `rate`/s, round robin over the rooms, one per POST. */
export function roomEvents(
  server: Server,
  clients: readonly SseClient[],
  latencies: Latencies,
  rate: number,
  seconds: number,
): Promise<Cost> {
  return pacedRoomEvents(
    server,
    clients,
    latencies,
    rate,
    seconds,
    1,
    (i) => server.publish(stampedBody(), roomOf(i)),
    "rooms",
  );
}

/**
 * Room events at `rate`/s as batches: every 100 ms one request carrying the
 * tenth of a second's events (hypha's batch publish).
 */
export function roomEventsBatched(
  server: Server,
  clients: readonly SseClient[],
  latencies: Latencies,
  rate: number,
  seconds: number,
): Promise<Cost> {
  const perBatch = Math.max(1, Math.round(rate / 10));
  return pacedRoomEvents(
    server,
    clients,
    latencies,
    10,
    seconds,
    perBatch,
    (b) =>
      server.publishBatch!(
        Array.from({ length: perBatch }, (_, i) => ({
          room: roomOf(b * perBatch + i),
          body: stampedBody(),
        })),
      ),
    "rooms batched",
  );
}

/**
 * Room events as fast as the server takes them for `seconds`: `inFlight`
 * requests at a time, each carrying `perRequest` events (1: one per POST).
 * Events/s = events accepted / time until every client had them.
 */
export async function publishThroughput(
  server: Server,
  clients: readonly SseClient[],
  latencies: Latencies,
  perRequest: number,
  seconds: number,
  inFlight = 8,
): Promise<number> {
  const before = totalEvents(clients);
  const started = performance.now();
  const until = started + seconds * 1000;
  let events = 0;
  let next = 0;
  const worker = async () => {
    while (performance.now() < until) {
      if (perRequest === 1) {
        await server.publish(stampedBody(), roomOf(next++));
      } else {
        const items = Array.from({ length: perRequest }, () => ({
          room: roomOf(next++),
          body: stampedBody(),
        }));
        await server.publishBatch!(items);
      }
      events += perRequest;
    }
  };
  latencies.recording = false;
  await Promise.all(Array.from({ length: inFlight }, worker));
  const expected = (events * clients.length) / ROOMS;
  await waitUntil(() => totalEvents(clients) - before >= expected, DRAIN_MS);
  return events / ((performance.now() - started) / 1000);
}

/** Publishes AMQP messages as fast as the channel takes them. */
export async function amqpThroughput(
  server: Server,
  channel: AMQPChannel,
  exchange: string,
  clients: readonly SseClient[],
  latencies: Latencies,
  messages: number,
): Promise<{ perSecond: number; cost: Cost }> {
  const started = performance.now();
  const cost = await measure(
    server,
    "amqp throughput",
    clients,
    latencies,
    messages * clients.length,
    async () => {
      for (let i = 0; i < messages; i++) {
        await channel.basicPublish(exchange, "feed.item", stampedBody());
      }
    },
  );
  const perSecond = messages / ((performance.now() - started) / 1000);
  return { perSecond, cost };
}

/** AMQP room events at `rate`/s into the room clients. */
export function amqpRooms(
  server: Server,
  channel: AMQPChannel,
  exchange: string,
  clients: readonly SseClient[],
  latencies: Latencies,
  rate: number,
  seconds: number,
): Promise<Cost> {
  return pacedRoomEvents(
    server,
    clients,
    latencies,
    rate,
    seconds,
    1,
    (i) =>
      channel.basicPublish(
        exchange,
        "room.event",
        stampedBody({ room: roomOf(i) }),
      ),
    "amqp rooms",
  );
}
