/**
 * Serving one accepted connection with Deno's own HTTP server:
 * `Deno[Deno.internal].serveHttpOnConnection` (Deno 2.9), the server
 * Deno.serve runs per connection. Responses take the same native path, so
 * streams cost nothing more. Measured: keep-alive requests/s unchanged; a
 * new connection per request ~10-35 % slower (noisy, shared 2-core box).
 *
 * @module
 */

import type { Listener } from "../core/http/http.ts";
import { connectionInfo } from "./deno_request.ts";
import { internalError } from "./internal_error.ts";

/** A fetch handler as Deno's server calls it. */
export type Handler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** The shape of the internal, as Deno 2.9 defines it. */
export type ServeOnConnection = (
  conn: Deno.Conn,
  signal: AbortSignal | undefined,
  handler: Handler,
  onError: (error: unknown) => Response,
  onListen: () => void,
) => Deno.HttpServer<Deno.NetAddr>;

/** The connections of one listener. */
export interface Served {
  /** Serves `conn`; a promise makes the accept loop wait for it. */
  take(conn: Deno.Conn): Promise<void> | undefined;
  /** Resolves when every response in flight is done. */
  shutdown(): Promise<void>;
}

/**
 * The internal, or why it cannot be used: absent, or not the shape this
 * code calls (a Deno upgrade may change it; calling it blind would fail at
 * the first connection, or worse, serve wrongly). `deno` is for tests.
 */
export function serveOnConnection(
  deno: object = Deno,
): ServeOnConnection | string {
  const key = Reflect.get(deno, "internal");
  const internal = typeof key === "symbol" || typeof key === "string"
    ? Reflect.get(deno, key)
    : undefined;
  const fn = internal?.serveHttpOnConnection;
  if (fn === undefined) {
    return "this Deno has no serveHttpOnConnection internal";
  }
  if (typeof fn !== "function") {
    return `Deno's serveHttpOnConnection internal is a ${typeof fn}, not a function`;
  }
  // (conn, signal, handler, onError, onListen) in Deno 2.9.
  if (fn.length !== 5) {
    return `Deno's serveHttpOnConnection internal takes ${fn.length} parameters, not the 5 hypha passes (conn, signal, handler, onError, onListen): its shape changed`;
  }
  return fn as ServeOnConnection;
}

/** Throws unless `server` is what Deno 2.9's internal returns. */
export function checkServer(server: unknown): Deno.HttpServer<Deno.NetAddr> {
  const s = server as Partial<Deno.HttpServer<Deno.NetAddr>> | undefined;
  if (
    !(s?.finished instanceof Promise) || typeof s.shutdown !== "function"
  ) {
    throw new TypeError(
      "Deno's serveHttpOnConnection returned no server with finished and shutdown(): its shape changed",
    );
  }
  return s as Deno.HttpServer<Deno.NetAddr>;
}

/** Serves connections of `listener` as Deno.serve would: no limits. */
export function unguarded(
  listener: Listener,
  onConnection: ServeOnConnection,
): Served {
  const servers = new Set<Deno.HttpServer<Deno.NetAddr>>();
  const handler: Handler = (request, info) =>
    listener.fetch(request, connectionInfo(request, info));
  const onError = (error: unknown) => internalError(listener, error);
  return {
    take(conn) {
      const server = checkServer(
        onConnection(conn, undefined, handler, onError, () => {}),
      );
      servers.add(server);
      const gone = () => void servers.delete(server);
      // Both ways: a rejection left unhandled would end the process.
      server.finished.then(gone, gone);
      return undefined;
    },
    async shutdown() {
      await Promise.all([...servers].map((s) => s.shutdown()));
    },
  };
}
