/**
 * A delivery thread on Bun: a Worker that serves with Bun.serve on a
 * shared port (`reusePort`).
 *
 * @module
 */

import { serveBun } from "../runtime/bun_serve.ts";
import { runDeliveryThread } from "./delivery_thread.ts";
import type { ToThread } from "./protocol.ts";

const unhandled = runDeliveryThread({
  serve: serveBun,
  readTextFile: (path) => Bun.file(path).text(),
  printError: (line) => console.error(line),
  post: (message) => self.postMessage(message),
  onMessage: (handler) =>
    self.addEventListener(
      "message",
      (event) => handler((event as MessageEvent<ToThread>).data),
    ),
});
process.on(
  "unhandledRejection",
  (reason) => unhandled("unhandled rejection", reason),
);
process.on("uncaughtException", (error) => unhandled("uncaught error", error));
