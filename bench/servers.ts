/**
 * The servers bench/compare.ts puts side by side, each a child process with
 * the same client-facing shape: hypha (Deno, Bun), the naive hub (Deno,
 * Bun) and nchan (nginx's C module, when installed). nginx runs from a temp
 * prefix with its own config on a loopback port, never the system's.
 */

import { spawn } from "node:child_process";
import process from "node:process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../tests/support/rabbitmq.ts";
import { sleep } from "./sse_load.ts";
import { connectProfiler, type Profiler } from "./inspector.ts";
import {
  type ConfigInput,
  type ConfigPart,
  merge,
  rest,
  REST_FLOWS,
  ROOMS_FLOW,
  sse,
  toml,
} from "../tests/support/config_builder.ts";

/** HYPHA_BENCH_PROFILE=<dir>: where servers write their CPU profiles. */
const PROFILE_DIR = process.env.HYPHA_BENCH_PROFILE;

const ROOT = new URL("../", import.meta.url).pathname;
export const DENO = join(ROOT, "node_modules/deno/deno");
export const BUN = join(ROOT, "node_modules/bun/bin/bun.exe");
const NCHAN_MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so";

/** A server under test. */
export interface Server {
  readonly name: string;
  readonly pid: number;
  /** The subscribe URL, for everyone or for one room. */
  subscribeUrl(room?: string): URL;
  /** Publishes one body to everyone or to a room; resolves when accepted. */
  publish(body: string, room?: string): Promise<void>;
  /** hypha only: publishes many room events in one request. */
  publishBatch?(bodies: { room: string; body: string }[]): Promise<void>;
  /** A Deno server with HYPHA_BENCH_PROFILE: profiles each measurement. */
  readonly profiler?: Profiler;
  stop(): Promise<void>;
}

/** Deno's args for `script`: inspected when profiling (bench/inspector.ts). */
async function denoRun(
  script: string[],
): Promise<{ args: string[]; attach?: () => Promise<Profiler> }> {
  if (PROFILE_DIR === undefined) return { args: ["run", "-A", ...script] };
  const port = await freePort();
  return {
    args: ["run", "-A", `--inspect=127.0.0.1:${port}`, ...script],
    attach: () => connectProfiler(port, PROFILE_DIR),
  };
}

/** Spawns `command`, resolves with the child once `ready` matches output. */
function spawnUntil(
  command: string,
  args: string[],
  ready: RegExp,
): Promise<{ pid: number; match: RegExpExecArray; kill: () => Promise<void> }> {
  const child = spawn(command, args, {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  const kill = async () => {
    // A profiled server writes its profile on a clean exit only.
    child.kill(PROFILE_DIR ? "SIGTERM" : "SIGKILL");
    await exited;
  };
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`${command} not ready in 30 s:\n${output}`));
    }, 30_000);
    const onData = (chunk: Uint8Array) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      resolve({ pid: child.pid!, match, kill });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}:\n${output}`));
    });
  });
}

async function post(url: string, body: string, type = "application/json") {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": type },
    body,
  });
  await response.arrayBuffer();
  if (response.status >= 300) {
    throw new Error(`${url}: ${response.status}`);
  }
}

/**
 * The naive hub of bench/naive_hub.ts on `runtime`; with `amqp`, it also
 * consumes that queue (bound to that exchange).
 */
export async function startNaive(
  runtime: "deno" | "bun",
  amqp?: { exchange: string; queue: string },
): Promise<Server> {
  const hubArgs = ["bench/naive_hub.ts", "0"];
  if (amqp !== undefined) hubArgs.push(amqp.exchange, amqp.queue);
  const deno = runtime === "deno" ? await denoRun(hubArgs) : undefined;
  const args = deno !== undefined
    ? [DENO, deno.args] as const
    : [BUN, ["run", ...hubArgs]] as const;
  const child = await spawnUntil(args[0], [...args[1]], /listening (\d+)/);
  const base = `http://127.0.0.1:${child.match[1]}`;
  const profiler = await deno?.attach?.();
  return {
    name: `naive ${runtime}`,
    pid: child.pid,
    profiler,
    subscribeUrl: (room) =>
      new URL(room === undefined ? "/events" : `/events?room=${room}`, base),
    publish: (body, room) =>
      post(`${base}/publish${room === undefined ? "" : `/${room}`}`, body),
    stop: async () => {
      profiler?.close();
      await child.kill();
    },
  };
}

/** hypha's config for the bench: broadcast and room routes, big limits. */
function hyphaConfig(workers: number, more: ConfigPart): ConfigInput {
  return merge<ConfigInput>({
    service: { workers },
    connector: { sse: sse({ max_connections: 100000 }), api: rest() },
    flow: {
      all: REST_FLOWS.notify_all,
      room: REST_FLOWS.notify_room,
      batch: ROOMS_FLOW,
    },
  }, more);
}

/**
 * hypha's real entrypoint on `runtime`; `more` adds to its config (the
 * RabbitMQ connector, keys of the SSE connector). With
 * HYPHA_BENCH_PROFILE=<dir>, hypha on Bun writes a CPU profile (markdown,
 * `bun --cpu-prof-md`) there when it stops; on Deno, one profile per
 * measurement (bench/inspector.ts).
 */
export async function startHypha(
  runtime: "deno" | "bun",
  more: ConfigPart = {},
  /** `[service] workers`: delivery threads. */
  workers = 1,
): Promise<Server> {
  const dir = await mkdtemp(join(tmpdir(), "hypha-bench-"));
  const config = join(dir, "hypha.toml");
  await writeFile(config, toml(hyphaConfig(workers, more)));
  const deno = runtime === "deno"
    ? await denoRun(["src/deno.ts", "--config", config])
    : undefined;
  const args = deno !== undefined ? [DENO, deno.args] as const : [BUN, [
    ...(PROFILE_DIR ? ["--cpu-prof-md", `--cpu-prof-dir=${PROFILE_DIR}`] : []),
    "run",
    "src/bun.ts",
    "--config",
    config,
  ]] as const;
  const child = await spawnUntil(
    args[0],
    [...args[1]],
    /connector=sse url=(\S+)[\s\S]*connector=api url=(\S+)[\s\S]*ready/,
  );
  const events = child.match[1];
  const api = child.match[2];
  const profiler = await deno?.attach?.();
  return {
    name: `hypha ${runtime}${workers > 1 ? ` w${workers}` : ""}`,
    pid: child.pid,
    profiler,
    subscribeUrl: (room) =>
      new URL(room === undefined ? "/events" : `/events?room=${room}`, events),
    publish: (body, room) =>
      post(`${api}notify${room === undefined ? "" : `/${room}`}`, body),
    publishBatch: (items) =>
      post(
        `${api}rooms`,
        `[${
          items.map(({ room, body }) =>
            `{"room":${JSON.stringify(room)},${body.slice(1)}`
          ).join(",")
        }]`,
      ),
    stop: async () => {
      profiler?.close();
      await child.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Whether nginx and its nchan module are installed. */
export function nchanInstalled(): boolean {
  return existsSync("/usr/sbin/nginx") && existsSync(NCHAN_MODULE);
}

/**
 * nginx + nchan from a temp prefix: one process (master_process off), or a
 * master with `workers` worker processes.
 */
export async function startNchan(workers = 1): Promise<Server> {
  const dir = await mkdtemp(join(tmpdir(), "hypha-bench-nchan-"));
  const port = await freePort();
  const conf = join(dir, "nginx.conf");
  await writeFile(
    conf,
    `load_module ${NCHAN_MODULE};
worker_processes ${workers};
worker_rlimit_nofile 60000;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 60000; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location = /events {
      nchan_subscriber eventsource;
      nchan_channel_id $arg_room;
      nchan_subscriber_first_message newest;
    }
    location ~ ^/publish/?(.*)$ {
      nchan_publisher;
      nchan_channel_id $1;
    }
  }
}
`,
  );
  const child = spawn("/usr/sbin/nginx", [
    "-p",
    dir,
    "-c",
    conf,
    "-e",
    `${dir}/error.log`,
    "-g",
    // Several workers need their master process (the channels are in
    // nginx's shared memory).
    workers > 1 ? "daemon off;" : "daemon off; master_process off;",
  ], { stdio: ["ignore", "inherit", "inherit"] });
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${base}/publish/ping`, { method: "GET" }).then(
        async (r) => (await r.arrayBuffer(), true),
        () => false,
      )
    ) break;
    await sleep(50);
  }
  return {
    name: workers > 1 ? `nchan w${workers}` : "nchan",
    pid: child.pid!,
    // nchan needs a channel id: everyone is the channel "all".
    subscribeUrl: (room) => new URL(`/events?room=${room ?? "all"}`, base),
    publish: (body, room) => post(`${base}/publish/${room ?? "all"}`, body),
    stop: async () => {
      child.kill("SIGKILL");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
