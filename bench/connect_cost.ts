/**
 * CPU per subscriber request in process, without sockets: hypha's SSE
 * handler (the whole app, as tests/support/in_process.ts starts it) beside
 * the naive hub's, on this runtime. Each round opens N streams (request,
 * handler, first chunk read) and then cancels them; µs per open and close.
 * The runtime's HTTP server is not in it: what is left over in the
 * end-to-end numbers of bench/compare.ts is the server's own.
 *
 *   bun run bench/connect_cost.ts [streams=10000] [rounds=6]
 *   deno run -A bench/connect_cost.ts [streams=10000] [rounds=6]
 */

import process from "node:process";
import { startApp } from "../src/app.ts";
import { parseConfig } from "../src/config/load.ts";
import type { Listener } from "../src/core/http/http.ts";
import { createLogger } from "../src/core/log.ts";
import { handle } from "./naive_hub.ts";
import { report } from "./support.ts";
import { REST_FLOWS, toml } from "../tests/support/config_builder.ts";

const streams = Number(process.argv[2] ?? 10_000);
const rounds = Number(process.argv[3] ?? 6);
const RUNTIME = "Bun" in globalThis ? "bun" : "deno";

type Handler = (request: Request) => Response | Promise<Response>;

/** µs per open and per close of `streams` streams. */
async function round(handler: Handler): Promise<[number, number]> {
  const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  const opened = performance.now();
  for (let i = 0; i < streams; i++) {
    const response = await handler(
      new Request("http://hub.test/events", {
        headers: { accept: "text/event-stream" },
      }),
    );
    const reader = response.body!.getReader();
    await reader.read();
    readers.push(reader);
  }
  const closing = performance.now();
  // As the runtimes do when a client leaves: cancel the body.
  for (let i = 0; i < streams; i++) await readers[i].cancel();
  const closed = performance.now();
  return [
    ((closing - opened) * 1000) / streams,
    ((closed - closing) * 1000) / streams,
  ];
}

const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];

let sse: Listener | undefined;
// In process: the listeners are never bound, so the host is left default.
const { config } = parseConfig(
  toml({
    connector: {
      sse: { type: "sse", port: 0, max_connections: 1000000 },
      api: { type: "rest", port: 0 },
    },
    flow: { all: REST_FLOWS.notify_all },
  }),
  "bench.toml",
  {},
);
const app = await startApp(config, {
  serve: (listener) => {
    if (listener.connector === "sse") sse = listener;
    return Promise.resolve({ port: 0, stop: () => Promise.resolve() });
  },
  log: createLogger(() => {}, "error"),
});
const servers: Record<string, Handler> = {
  naive: (request) => handle(request),
  // As the runtimes call it (src/runtime): both cancel a body whose
  // client left.
  hypha: (request) =>
    sse!.fetch(request, { remoteAddr: "127.0.0.1", cancelsBody: true }),
};
const results: Record<string, [number[], number[]]> = {
  naive: [[], []],
  hypha: [[], []],
};
for (let r = 0; r < rounds; r++) {
  for (const name of ["naive", "hypha"]) {
    const [open, close] = await round(servers[name]);
    results[name][0].push(open);
    results[name][1].push(close);
  }
}
console.log(
  `in-process subscriber requests on ${RUNTIME}: ${streams} streams, median of ${rounds} rounds`,
);
for (const name of ["naive", "hypha"]) {
  report(`${name}: open`, median(results[name][0]), "µs");
  report(`${name}: close`, median(results[name][1]), "µs");
}
await app.stop();
process.exit(0);
