/**
 * hypha side by side with a naive hub and nchan, in one run, with one load
 * generator (this process). Prints a markdown table with ratios.
 *
 *   bun run bench/compare.ts [--scale 1] [--seconds 10] [--only a,b] [--no-rabbit]
 *     [--sse "connection_guard = true"] [--amqp "prefetch = 1000"] [--repeat 1]
 *     [--scenarios idle|connects,wide,fast,rooms,publish]
 *   ./node_modules/deno/deno run -A bench/compare.ts ...
 *
 * --scale multiplies every client count (0.02 = 200 of 10,000) for a smoke
 * run; rates stay. --only picks servers: nchan, naive-deno, naive-bun,
 * hypha-deno, hypha-bun; `-w2` after hypha's or nchan's runs it with 2
 * delivery threads (`[service] workers = 2`) or 2 nginx worker processes. --scenarios picks rows: `idle` (or `connects`: the
 * idle KB and connects/s), `wide` (10,000 x 5/s), `fast` (2,000 x 50/s),
 * `rooms` (room events, one per POST and batched), `publish` (publish
 * throughput), `capacity` (the highest room-event rate sustained with p99
 * <= 100 ms, bench/capacity.ts; not in the default set: it steps the rate,
 * one scenario length per step; `--steps 500,600,...` sets the rates
 * tried); the broadcasts need the idle connects. The load generator
 * holds one socket per client: at scale 1, 10,000 at once, so `ulimit -n`
 * must exceed that (each server process needs as many; children inherit the
 * limit). --repeat N runs every server N times, round robin (so drift on a
 * shared machine touches each alike), prints each round's table, then the
 * table of medians. --record <what> also writes the run, with the git
 * revision, the versions and the machine, to bench/results/ (record.ts).
 */

import { AMQPClient } from "@cloudamqp/amqp-client";
import { readFileSync } from "node:fs";
import process from "node:process";
import { parse } from "smol-toml";
import {
  amqpRooms,
  amqpThroughput,
  broadcast,
  connectIdle,
  connectRooms,
  type Cost,
  publishThroughput,
  roomEvents,
  roomEventsBatched,
} from "./scenarios.ts";
import {
  nchanInstalled,
  type Server,
  startHypha,
  startNaive,
  startNchan,
} from "./servers.ts";
import { Latencies, openClients, sleep, type SseClient } from "./sse_load.ts";
import { medians, type Results, table } from "./table.ts";
import { capacity } from "./capacity.ts";
import { recordRun, runContext } from "./record.ts";
import {
  type ConfigPart,
  flow,
  merge,
  type MqInput,
  type Overrides,
  rabbit as mqConnector,
  type SseInput,
  throwawayTopology,
} from "../tests/support/config_builder.ts";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : fallback;
};
const scale = Number(option("scale", "1"));
const seconds = Number(option("seconds", "10"));
const only = option("only", "nchan,naive-deno,naive-bun,hypha-deno,hypha-bun")
  .split(",");
const rabbit = !args.includes("--no-rabbit");
/** `--record <what>`: also write bench/results/<date>-<what>.{json,md}. */
const record = option("record", "");
const repeat = Math.max(1, Number(option("repeat", "1")));
/**
 * More keys of hypha's SSE connector and RabbitMQ consumer, as TOML lines
 * (e.g. "connection_guard = false", "prefetch = 1000"); hypha checks them.
 */
const sseFields = parse(option("sse", "")) as Overrides<SseInput>;
const consumerFields = parse(option("amqp", "")) as Overrides<
  MqInput["consumer"]
>;
/** The capacity row's rates, e.g. finer steps where the servers part. */
const capacitySteps = option("steps", "").split(",").filter((s) => s !== "")
  .map(Number);
const scenarios = option("scenarios", "idle,wide,fast,rooms,publish")
  .split(",");
// `connects` is the idle row's other name: one run measures both.
const want = (scenario: string) =>
  scenarios.includes(scenario) ||
  (scenario === "idle" && scenarios.includes("connects"));
const n = (count: number) => Math.max(ROOMS_MIN, Math.round(count * scale));
const ROOMS_MIN = 100;

const IDLE = n(10_000);
const WIDE = n(2_000);
const ROOM_CLIENTS = n(5_000);
const AMQP_SUBSCRIBERS = n(1_000);
const AMQP_MESSAGES = Math.max(1000, Math.round(20_000 * scale));

function checkFileLimit(): void {
  const limits = readFileSync("/proc/self/limits", "utf8");
  const soft = Number(/Max open files\s+(\d+)/.exec(limits)?.[1] ?? "0");
  if (soft < IDLE + 500) {
    console.error(
      `ulimit -n is ${soft}; ${IDLE} clients need more: run "ulimit -n ${
        IDLE * 2
      }" first`,
    );
    process.exit(2);
  }
}

let results: Results = {};
const put = (row: string, server: string, value: number | Cost) =>
  (results[row] ??= {})[server] = value;

const closeAll = (clients: SseClient[]) => {
  for (const c of clients) c.close();
};

async function sseScenarios(server: Server): Promise<void> {
  const latencies = new Latencies();
  if (want("idle") || want("wide") || want("fast")) {
    await idleScenarios(server, latencies);
  }
  if (!want("rooms") && !want("publish") && !want("capacity")) return;
  const rooms = await connectRooms(server, ROOM_CLIENTS, latencies);
  await sleep(1000);
  if (want("rooms")) {
    put(
      "rooms",
      server.name,
      await roomEvents(server, rooms, latencies, 500, seconds),
    );
    log(server, "room events done");
    if (server.publishBatch !== undefined) {
      put(
        "rooms_batched",
        server.name,
        await roomEventsBatched(server, rooms, latencies, 500, seconds),
      );
    }
  }
  if (want("capacity")) {
    const found = await capacity(
      server,
      rooms,
      latencies,
      seconds,
      (line) => log(server, line),
      capacitySteps.length > 0 ? capacitySteps : undefined,
    );
    put("capacity", server.name, found.rate);
    put("capacity_generator", server.name, found.generatorCpu * 100);
  }
  if (want("publish")) {
    put(
      "single",
      server.name,
      await publishThroughput(server, rooms, latencies, 1, seconds / 2),
    );
    if (server.publishBatch !== undefined) {
      put(
        "batch",
        server.name,
        await publishThroughput(server, rooms, latencies, 100, seconds / 2, 2),
      );
    }
    log(server, "publish throughput done");
  }
  closeAll(rooms);
}

/** Idle connections, then broadcasts to them (wide, then fast). */
async function idleScenarios(server: Server, latencies: Latencies) {
  const idle = await connectIdle(server, IDLE, latencies);
  put("idle", server.name, idle.kb);
  put("connects", server.name, idle.perSecond);
  log(server, `${IDLE} connected at ${idle.perSecond.toFixed(0)}/s`);
  if (want("wide")) {
    put(
      "wide",
      server.name,
      await broadcast(server, idle.clients, latencies, 5, seconds),
    );
    log(server, "broadcast 5/s done");
  }
  closeAll(idle.clients.splice(WIDE));
  if (want("fast")) {
    await sleep(2000);
    put(
      "fast",
      server.name,
      await broadcast(server, idle.clients, latencies, 50, seconds),
    );
    log(server, "broadcast 50/s done");
  }
  closeAll(idle.clients);
}

async function amqpScenarios(server: Server, exchange: string) {
  const client = new AMQPClient("amqp://guest:guest@127.0.0.1:5672");
  await client.connect();
  const channel = await client.channel();
  try {
    const latencies = new Latencies();
    const wide = await openClients(
      AMQP_SUBSCRIBERS,
      () => server.subscribeUrl(),
      latencies,
    );
    const { perSecond } = await amqpThroughput(
      server,
      channel,
      exchange,
      wide,
      latencies,
      AMQP_MESSAGES,
    );
    put("amqp_rate", server.name, perSecond);
    closeAll(wide);
    const rooms = await connectRooms(server, ROOM_CLIENTS, latencies);
    put(
      "amqp_rooms",
      server.name,
      await amqpRooms(
        server,
        channel,
        exchange,
        rooms,
        latencies,
        1000,
        seconds,
      ),
    );
    closeAll(rooms);
    log(server, "rabbitmq done");
  } finally {
    await client.close();
  }
}

function log(server: Server, what: string) {
  console.error(
    `[${new Date().toISOString().slice(11, 19)}] ${server.name}: ${what}`,
  );
}

/** The RabbitMQ source of hypha's AMQP rows, on a throwaway topology. */
function amqpConfig(exchange: string, queue: string): ConfigPart {
  return {
    connector: {
      rabbit: mqConnector({
        ...throwawayTopology("hypha-bench", exchange, queue),
        consumer: consumerFields,
      }),
    },
    flow: {
      feed: flow(
        { connector: "rabbit", operation: "feed.item" },
        { connector: "sse", operation: "broadcast" },
      ),
      room_event: flow(
        { connector: "rabbit", operation: "room.event" },
        { connector: "sse", operation: "send_to_room", target: "input.room" },
      ),
    },
  };
}

async function deleteTopology(exchange: string, queue: string) {
  const client = new AMQPClient("amqp://guest:guest@127.0.0.1:5672");
  await client.connect();
  const channel = await client.channel();
  await channel.queueDelete(queue).catch(() => {});
  await channel.exchangeDelete(exchange).catch(() => {});
  await client.close();
}

async function run(id: string): Promise<void> {
  // hypha-deno-w2, nchan-w2: with 2 delivery threads / worker processes.
  const workers = Number(/-w(\d+)$/.exec(id)?.[1] ?? "1");
  const [kind, runtime] = id.replace(/-w\d+$/, "").split("-") as [
    string,
    "deno" | "bun",
  ];
  if (kind === "nchan" && !nchanInstalled()) {
    console.error(
      "nchan: not installed (apt-get install nginx libnginx-mod-nchan), skipped",
    );
    return;
  }
  const tag = crypto.randomUUID().slice(0, 8);
  const exchange = `hypha-bench-${tag}`;
  const queue = `hypha-bench-${tag}`;
  // nchan has no AMQP source: its RabbitMQ cells stay n/a.
  const withRabbit = kind !== "nchan" && rabbit;
  const server = kind === "nchan"
    ? await startNchan(workers)
    : kind === "naive"
    ? await startNaive(runtime, withRabbit ? { exchange, queue } : undefined)
    : await startHypha(
      runtime,
      merge<ConfigPart>(
        { connector: { sse: sseFields } },
        withRabbit ? amqpConfig(exchange, queue) : {},
      ),
      workers,
    );
  try {
    await sseScenarios(server);
    if (withRabbit) await amqpScenarios(server, exchange);
  } catch (error) {
    console.error(`${server.name}: ${error}`);
  } finally {
    await server.stop();
    if (withRabbit) await deleteTopology(exchange, queue);
  }
  await sleep(2000);
}

checkFileLimit();
const context = runContext();
const started = new Date();
const meta = {
  date: started.toISOString(),
  scale,
  seconds,
  counts: { IDLE, WIDE, ROOM_CLIENTS, AMQP_SUBSCRIBERS, AMQP_MESSAGES },
};
const rounds: Results[] = [];
const tables: string[] = [];
const print = (text: string) => {
  console.log(text);
  tables.push(text);
};
for (let round = 1; round <= repeat; round++) {
  results = {};
  for (const id of only) await run(id);
  rounds.push(results);
  if (repeat > 1) {
    print(`## Round ${round} of ${repeat}`);
    print(table(results, meta));
  }
}
if (repeat > 1) print(`## Medians of ${repeat} rounds`);
print(table(medians(rounds), meta));
if (record !== "") {
  const file = await recordRun(record, context, {
    rounds,
    medians: medians(rounds),
    tables,
  });
  console.error(`recorded in ${file}`);
}
process.exit(0);
