/**
 * A delivery thread on Deno: a module Worker that serves with Deno's
 * server on a shared port (`reusePort` is unstable in Deno 2.9: deno.json
 * lists "net").
 *
 * @module
 */

import { serveDeno } from "../runtime/deno_serve.ts";
import { runDeliveryThread } from "./delivery_thread.ts";
import type { ToThread } from "./protocol.ts";

const unhandled = runDeliveryThread({
  serve: serveDeno,
  readTextFile: (path) => Deno.readTextFile(path),
  printError: (line) => console.error(line),
  post: (message) => self.postMessage(message),
  onMessage: (handler) =>
    self.addEventListener(
      "message",
      (event) => handler((event as MessageEvent<ToThread>).data),
    ),
});
self.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  unhandled("unhandled rejection", event.reason);
});
self.addEventListener("error", (event) => {
  event.preventDefault();
  unhandled("uncaught error", event.error);
});
