/**
 * Deno entrypoint: `deno task start [--config PATH]`.
 * Supplies Deno's file, env, signal and HTTP server to `main`.
 *
 * @module
 */

import { internalError } from "./core/http.ts";
import { main } from "./main.ts";

await main({
  args: Deno.args,
  env: Deno.env.toObject(),
  readTextFile: (path) => Deno.readTextFile(path),
  serve: (listener) =>
    new Promise((resolve, reject) => {
      try {
        const server = Deno.serve({
          hostname: listener.host,
          port: listener.port,
          onListen: ({ port }) =>
            resolve({ port, stop: () => server.shutdown() }),
          onError: internalError,
        }, (request, info) =>
          listener.fetch(request, {
            remoteAddr: info.remoteAddr.hostname,
            completed: info.completed,
          }));
      } catch (error) {
        reject(error);
      }
    }),
  onSignal: (handler) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(signal, () => handler(signal));
    }
  },
  print: (text) => console.log(text),
  printError: (line) => console.error(line),
  exit: (code) => Deno.exit(code),
});
