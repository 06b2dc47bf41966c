/**
 * Deno entrypoint: `deno task start [--config PATH]`.
 * Supplies Deno's file, env, signal and HTTP server to `main`.
 *
 * @module
 */

import { main } from "./main.ts";
import { serveDeno } from "./runtime/deno_serve.ts";

await main({
  args: Deno.args,
  env: Deno.env.toObject(),
  readTextFile: (path) => Deno.readTextFile(path),
  serve: serveDeno,
  onSignal: (handler) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(signal, () => handler(signal));
    }
  },
  onUnhandledRejection: (handler) =>
    globalThis.addEventListener(
      "unhandledrejection",
      (event: PromiseRejectionEvent) => {
        event.preventDefault();
        handler(event.reason);
      },
    ),
  onUncaughtError: (handler) =>
    globalThis.addEventListener("error", (event: ErrorEvent) => {
      event.preventDefault();
      handler(event.error);
    }),
  print: (text) => console.log(text),
  printError: (line) => console.error(line),
  exit: (code) => Deno.exit(code),
  threads: {
    os: Deno.build.os,
    cores: navigator.hardwareConcurrency,
    spawn: () =>
      new Worker(new URL("./workers/deno_thread.ts", import.meta.url), {
        type: "module",
      }),
  },
});
