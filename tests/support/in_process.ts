/**
 * The whole app in the test's own process: the config is parsed and started
 * as main.ts does, but the listeners are not bound to ports; tests call
 * their fetch functions with a `Request` and get the exact `Response`.
 * Real HTTP, sockets and runtimes stay in the end-to-end tests.
 */

import { startApp } from "../../src/app.ts";
import { createSubscriberAuth } from "../../src/auth/setup.ts";
import { parseConfig } from "../../src/config/load.ts";
import type { Listener } from "../../src/core/http/http.ts";
import { createLogger } from "../../src/core/log.ts";
import { readFile } from "node:fs/promises";
import { type ConfigInput, toml } from "./config_builder.ts";

/** Calls a listener's fetch function, as the runtime would. */
export type Call = (path: string, init?: RequestInit) => Promise<Response>;

/** A started app whose listeners answer in process. */
export interface InProcess {
  /** The fetch function of connector `name`, as a client sees it. */
  call(name: string): Call;
  /** A `fetch` for clients (EventSource) aimed at connector `name`. */
  fetchOf(name: string): typeof fetch;
  /** Log lines written so far. */
  readonly lines: string[];
  stop(): Promise<void>;
}

/** Starts `config` (TOML text) in process. */
export async function inProcess(
  config: string | ConfigInput,
  env: Record<string, string> = {},
): Promise<InProcess> {
  const text = typeof config === "string" ? config : toml(config);
  const { config: parsed } = parseConfig(text, "test.toml", env);
  const auth = await createSubscriberAuth(
    parsed,
    "test.toml",
    (path) => readFile(path, "utf8"),
  );
  const listeners = new Map<string, Listener>();
  const lines: string[] = [];
  const app = await startApp(parsed, {
    serve: (listener) => {
      listeners.set(listener.connector, listener);
      return Promise.resolve({ port: 0, stop: () => Promise.resolve() });
    },
    log: createLogger((line) => lines.push(line), "debug"),
    authorizers: auth.authorizers,
    callbacks: auth.callbacks,
    mercure: auth.mercure,
  });
  const fetchOf = (name: string) => {
    const listener = listeners.get(name);
    if (listener === undefined) throw new Error(`no listener ${name}`);
    // Always a promise, as fetch answers (the handler may answer at once).
    return (async (input: RequestInfo | URL, init?: RequestInit) =>
      await listener.fetch(new Request(input, init), {
        remoteAddr: "127.0.0.1",
      })) as typeof fetch;
  };
  return {
    call: (name) => (path, init) =>
      fetchOf(name)(`http://${name}.test${path}`, init),
    fetchOf,
    lines,
    stop: () => app.stop(),
  };
}

/** Posts JSON through `call`; returns status and parsed body. */
export async function post(
  call: Call,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await call(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}
