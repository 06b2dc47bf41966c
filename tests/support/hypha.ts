/**
 * Starts the real entrypoint of the runtime running the tests (src/deno.ts
 * under `deno test`, src/bun.ts under `bun test`) as a child process with a
 * config file, and learns its URLs from the startup log.
 */

import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { type Child, spawnChild } from "./spawn.ts";
import { type ConfigInput, toml } from "./config_builder.ts";

/** "deno" or "bun": the runtime under test. */
export const RUNTIME: "deno" | "bun" = "Bun" in globalThis ? "bun" : "deno";

const ROOT = new URL("../../", import.meta.url).pathname;

/**
 * Deno's arguments of `deno task start` (deno.json), so tests run hypha as
 * users do: its `--quiet` keeps Deno's own log lines (h2 warnings) off
 * stderr, where they would break `log_format = "json"`.
 */
const DENO_START_ARGS: string[] = JSON.parse(
  readFileSync(join(ROOT, "deno.json"), "utf8"),
).tasks.start.split(" ").slice(1).map((arg: string) =>
  arg.endsWith(".ts") ? join(ROOT, arg) : arg
);

/** Command line that runs the entrypoint of `runtime` (default: this one). */
export function entrypointArgs(runtime = RUNTIME): string[] {
  return runtime === "deno"
    ? DENO_START_ARGS
    : ["run", join(ROOT, "src/bun.ts")];
}

/** A running hypha process. */
export interface Hypha {
  /** URL of each connector's listener, by connector name, from the startup log. */
  readonly urls: Record<string, string>;
  /** Every stderr line so far. */
  readonly lines: string[];
  readonly process: Child;
  /** Resolves with the exit code once the process is gone. */
  readonly exited: Promise<number | null>;
  /** Waits for a log line matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: "SIGTERM" | "SIGINT" | "SIGKILL"): Promise<number | null>;
}

/** Output (stdout and stderr) of a process that ran to its end. */
export interface Finished {
  readonly code: number | null;
  readonly output: string;
}

/** Runs the entrypoint with `args` to its end (for --help and bad configs). */
export async function runHypha(
  args: string[],
  env: Record<string, string> = {},
): Promise<Finished> {
  const child = spawnChild(
    process.execPath,
    [...entrypointArgs(), ...args],
    ROOT,
    env,
  );
  let output = "";
  child.onOutput((text) => output += text);
  const code = await child.exited;
  return { code, output };
}

/**
 * Writes `config` (TOML text, or a typed config written as TOML) to a temp
 * file and returns its path and a cleanup.
 */
export async function writeConfig(
  config: string | ConfigInput,
): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "hypha-test-"));
  const path = join(dir, "hypha.toml");
  await writeFile(path, typeof config === "string" ? config : toml(config));
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

const LISTENING = /INFO\s+listening connector=(\S+) url=(\S+)/;

/** `listening` in a JSON log line, as [, connector, url]. */
function jsonListening(line: string): string[] | undefined {
  if (!line.startsWith("{")) return undefined;
  const entry = JSON.parse(line);
  return entry.msg === "listening"
    ? ["", entry.connector, entry.url]
    : undefined;
}

/** Starts hypha with `config` and waits until it logs `ready` (text or JSON). */
export async function startHypha(
  config: string | ConfigInput,
  env: Record<string, string> = {},
  /** Another runtime than the tests' one, for mixed clusters. */
  runtime = RUNTIME,
  /** Most open files (`ulimit -n`), to run it out of descriptors. */
  fileLimit?: number,
  /** A module run instead of the entrypoint (it imports it), for faults. */
  entry?: string,
): Promise<Hypha> {
  const file = await writeConfig(config);
  return await startHyphaAt(
    file.path,
    env,
    file.remove,
    runtime,
    fileLimit,
    entry,
  );
}

/** Starts hypha with the config at `path` (a file or a directory). */
export async function startHyphaAt(
  path: string,
  env: Record<string, string> = {},
  cleanup: () => Promise<void> = async () => {},
  /** Another runtime than the tests' one, for mixed clusters. */
  runtime = RUNTIME,
  /** Most open files (`ulimit -n`), to run it out of descriptors. */
  fileLimit?: number,
  /** A module run instead of the entrypoint (it imports it), for faults. */
  entry?: string,
): Promise<Hypha> {
  const binary = runtime === RUNTIME
    ? process.execPath
    : join(ROOT, "node_modules/.bin", runtime);
  const command = [...entrypointArgs(runtime)];
  // The entrypoint is the last argument of both command lines.
  if (entry !== undefined) command[command.length - 1] = join(ROOT, entry);
  const args = [...command, "--config", path];
  // exec: the runtime takes bash's pid, so signals reach it.
  const child = fileLimit === undefined
    ? spawnChild(binary, args, ROOT, env)
    : spawnChild(
      "bash",
      ["-c", `ulimit -n ${fileLimit} && exec "$0" "$@"`, binary, ...args],
      ROOT,
      env,
    );
  const lines: string[] = [];
  const urls: Record<string, string> = {};
  const waiters = new Set<(line: string) => void>();
  let buffer = "";
  child.onOutput((chunk) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      if (process.env.HYPHA_TEST_LOG) console.error(`[hypha] ${line}`);
      const m = LISTENING.exec(line) ?? jsonListening(line);
      if (m) urls[m[1]] = m[2].replace("0.0.0.0", "127.0.0.1");
      for (const waiter of waiters) waiter(line);
    }
  });
  const exited = child.exited.then(async (code) => {
    await cleanup();
    return code;
  });

  const waitForLine = (pattern: RegExp, timeoutMs = 10_000) => {
    const seen = lines.find((l) => pattern.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(
            `no log line matching ${pattern} within ${timeoutMs} ms; log:\n${
              lines.join("\n")
            }`,
          ),
        );
      }, timeoutMs);
      const waiter = (line: string) => {
        if (!pattern.test(line)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(line);
      };
      waiters.add(waiter);
      exited.then(() => {
        if (!waiters.has(waiter)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        reject(
          new Error(
            `hypha exited before logging ${pattern}; log:\n${lines.join("\n")}`,
          ),
        );
      });
    });
  };

  // "not ready yet": listening, with a broker source still retrying.
  await waitForLine(
    /INFO\s+ready|WARN\s+not ready yet|^\{.*"msg":"(ready|not ready yet)/,
    20_000,
  );
  return {
    urls,
    lines,
    process: child,
    exited,
    waitForLine,
    async stop(signal = "SIGTERM") {
      child.kill(signal);
      return await exited;
    },
  };
}

/** Posts JSON to a REST route; returns status and parsed body. */
export async function publish(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

/** URL of `path` on the admin listener (needs `[service.admin]` in the config). */
export function adminUrl(hypha: Hypha, path: string): string {
  const base = hypha.urls["service.admin"];
  if (base === undefined) throw new Error("no admin listener in the config");
  return new URL(path, base).toString();
}

/** The JSON counters of GET /stats on the admin listener. */
export async function adminStats(
  hypha: Hypha,
  // deno-lint-ignore no-explicit-any
): Promise<any> {
  const response = await fetch(adminUrl(hypha, "/stats"));
  if (response.status !== 200) {
    throw new Error(`GET /stats: ${response.status} ${await response.text()}`);
  }
  return await response.json();
}
