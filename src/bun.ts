/**
 * Bun entrypoint: `bun run src/bun.ts [--config PATH]`.
 * Supplies Bun's file, env, signal and HTTP server to `main`.
 *
 * @module
 */

import { main } from "./main.ts";
import { serveBun } from "./runtime/bun_serve.ts";

await main({
  args: Bun.argv.slice(2),
  env: Bun.env,
  readTextFile: (path) => Bun.file(path).text(),
  serve: serveBun,
  onSignal: (handler) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.on(signal, () => handler(signal));
    }
  },
  onUnhandledRejection: (handler) =>
    process.on("unhandledRejection", (reason) => handler(reason)),
  onUncaughtError: (handler) =>
    process.on("uncaughtException", (error) => handler(error)),
  print: (text) => console.log(text),
  printError: (line) => console.error(line),
  exit: (code) => process.exit(code),
  threads: {
    os: process.platform,
    cores: navigator.hardwareConcurrency,
    spawn: () =>
      new Worker(new URL("./workers/bun_thread.ts", import.meta.url)),
  },
});
