/**
 * Deno.serve as is, for an unguarded streaming listener (a proxy in front
 * enforces the limits): an idle subscriber then costs what Deno.serve's
 * costs, ~12 KB less than a Deno HTTP server per connection (measured with
 * 2,000 idle subscribers on Deno 2.9: 63.6 vs 75.6 KB). Deno.serve's own
 * accept loop ends for good on the first failed accept (EMFILE: `finished`
 * rejects, Deno 2.9), so the listener is served again on the same port when
 * that happens, after a pause that grows, until it binds.
 *
 * @module
 */

import type { RunningServer } from "../core/http/http.ts";
import type { Listener } from "../core/http/http.ts";
import { connectionInfo } from "./deno_request.ts";
import { internalError } from "./internal_error.ts";

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 1_000;

/** Serves `listener` with Deno.serve, again whenever its accept loop dies. */
export function servePlain(listener: Listener): Promise<RunningServer> {
  const servers = new Set<Deno.HttpServer<Deno.NetAddr>>();
  let stopping = false;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const bind = (port: number, onBound: (port: number) => void) => {
    // Port 0 is bound once; a rebind takes the port it got.
    let bound = port;
    const server = Deno.serve(
      {
        hostname: listener.host,
        port,
        // Deno 2.9: unstable (deno.json "unstable": ["net"]).
        reusePort: listener.reusePort,
        ...listener.tls,
        onListen: (address) => onBound(bound = address.port),
        onError: (error) => internalError(listener, error),
      },
      (request, info) => listener.fetch(request, connectionInfo(request, info)),
    );
    servers.add(server);
    // Its streams may outlive its accept loop: it is kept for the shutdown.
    server.finished.catch((error) => {
      if (stopping) return;
      listener.onAcceptError?.(error);
      rebind(bound, FIRST_RETRY_MS);
    });
  };

  const rebind = (port: number, delay: number) => {
    retry = setTimeout(() => {
      if (stopping) return;
      try {
        bind(port, () => listener.onAcceptRecovered?.());
      } catch (error) {
        listener.onAcceptError?.(error);
        rebind(port, Math.min(MAX_RETRY_MS, delay * 1.5));
      }
    }, delay);
  };

  return new Promise((resolve, reject) => {
    try {
      bind(listener.port, (port) =>
        resolve({
          port,
          async stop() {
            stopping = true;
            clearTimeout(retry);
            await Promise.all([...servers].map((s) => s.shutdown()));
          },
        }));
    } catch (error) {
      reject(error);
    }
  });
}
