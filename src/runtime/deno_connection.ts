/**
 * Serving one accepted connection with Deno's own HTTP server:
 * `Deno[Deno.internal].serveHttpOnConnection` (Deno 2.9), the server
 * Deno.serve runs per connection. Responses take the same native path, so
 * streams cost nothing more. Measured: keep-alive requests/s unchanged; a
 * new connection per request ~10-35 % slower (noisy, shared 2-core box).
 *
 * @module
 */

import type { Listener } from "../core/http.ts";
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

/** The internal, or undefined where this Deno has none. */
export function serveOnConnection(): ServeOnConnection | undefined {
  const internal = Reflect.get(Deno, Reflect.get(Deno, "internal") ?? "");
  const fn = internal?.serveHttpOnConnection;
  return typeof fn === "function" ? fn : undefined;
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
      const server = onConnection(conn, undefined, handler, onError, () => {});
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
