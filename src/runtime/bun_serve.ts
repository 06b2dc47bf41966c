/**
 * Bun's HTTP listener with hypha's request limits (Bun 1.4.5):
 *
 * - `idleTimeout` closes a connection idle for `requestTimeoutMs` (in whole
 *   seconds, 1 to 255, Bun's range); a stream lifts it for itself with
 *   `server.timeout(request, 0)`, since Bun also cuts idle responses.
 * - A connection that has not sent complete headers is closed by Bun itself
 *   after ~10 s (fixed in uWebSockets, not configurable, not reset by
 *   trickled bytes); Bun has no hook before headers, so
 *   `max_pending_connections` cannot be counted here.
 * - Bodies are bounded in time by the REST source itself (body.ts).
 *
 * @module
 */

import type { RunningServer } from "../core/http/http.ts";
import type { Listener } from "../core/http/http.ts";
import { internalError } from "./internal_error.ts";

/** Bun's idleTimeout bounds, in seconds. */
const MAX_IDLE_TIMEOUT_S = 255;

/** Serves `listener` with Bun.serve. */
export function serveBun(listener: Listener): Promise<RunningServer> {
  const idleTimeout = Math.min(
    MAX_IDLE_TIMEOUT_S,
    Math.max(1, Math.ceil(listener.requestTimeoutMs / 1000)),
  );
  const server = Bun.serve({
    hostname: listener.host,
    port: listener.port,
    idleTimeout,
    reusePort: listener.reusePort,
    // HTTPS; Bun 1.4 offers no h2 by ALPN: HTTP/1.1 only (README, Operations).
    tls: listener.tls,
    fetch(request, server) {
      const response = listener.fetch(request, {
        // Read only where needed (per-address limits): a native call.
        get remoteAddr() {
          return server.requestIP(request)?.address ?? "unknown";
        },
        // Bun 1.4 cancels a response's body stream when its client leaves.
        cancelsBody: true,
      });
      // A subscriber may legitimately receive nothing for longer.
      const untimed = (r: Response) => {
        if (listener.streaming && isStream(r)) server.timeout(request, 0);
        return r;
      };
      // Synchronous where the handler is: no promise per request.
      return response instanceof Promise
        ? response.then(untimed)
        : untimed(response);
    },
    error: (error) => internalError(listener, error),
  });
  return Promise.resolve({
    port: server.port!,
    stop: () => server.stop(false),
  });
}

function isStream(response: Response): boolean {
  return response.headers.get("content-type") === "text/event-stream";
}
