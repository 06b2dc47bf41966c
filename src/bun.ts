/**
 * Bun entrypoint: `bun run src/bun.ts [--config PATH]`.
 * Supplies Bun's file, env, signal and HTTP server to `main`.
 *
 * @module
 */

import { internalError } from "./core/http.ts";
import { main } from "./main.ts";

await main({
  args: Bun.argv.slice(2),
  env: Bun.env,
  readTextFile: (path) => Bun.file(path).text(),
  serve: (listener) => {
    const server = Bun.serve({
      hostname: listener.host,
      port: listener.port,
      fetch(request, server) {
        // Bun closes a response idle for 10 s, also mid-stream (Bun 1.1-1.4);
        // a subscriber may legitimately receive nothing for longer.
        if (listener.streaming) server.timeout(request, 0);
        return listener.fetch(request, {
          remoteAddr: server.requestIP(request)?.address ?? "unknown",
        });
      },
      error: internalError,
    });
    return Promise.resolve({
      port: server.port!,
      stop: () => server.stop(false),
    });
  },
  onSignal: (handler) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.on(signal, () => handler(signal));
    }
  },
  print: (text) => console.log(text),
  printError: (line) => console.error(line),
  exit: (code) => process.exit(code),
});
