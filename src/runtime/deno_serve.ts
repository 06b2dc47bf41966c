/**
 * Deno's HTTP listeners. hypha accepts TCP connections itself
 * (deno_accept.ts), so a listener outlives running out of file descriptors,
 * and serves each one with Deno's own HTTP server (deno_connection.ts):
 * with request limits where the connection guard is on (deno_guard.ts),
 * as Deno.serve would where a proxy in front enforces them. An unguarded
 * SSE listener keeps Deno.serve itself (deno_plain.ts: less memory per
 * subscriber), served again when its accept loop dies. Where this Deno
 * lacks the internal the others need, Deno.serve is used and a warning
 * says what is lost.
 *
 * @module
 */

import type { RunningServer } from "../core/http/http.ts";
import type { Listener } from "../core/http/http.ts";
import { acceptLoop } from "./deno_accept.ts";
import { serveOnConnection, unguarded } from "./deno_connection.ts";
import { guarded } from "./deno_guard.ts";
import { servePlain } from "./deno_plain.ts";

/** What a TLS listener offers, in order of preference. */
const ALPN = ["h2", "http/1.1"];

/**
 * Serves `listener`; a fallback is told to `listener.onWarning`. `loop` is
 * the accept loop (a test passes one that dies).
 */
export function serveDeno(
  listener: Listener,
  loop: typeof acceptLoop = acceptLoop,
): Promise<RunningServer> {
  const onConnection = serveOnConnection();
  if (typeof onConnection === "string") {
    listener.onWarning?.(
      `${onConnection}: served by Deno.serve, which stops accepting for good when out of file descriptors, and without request_timeout and max_pending_connections`,
    );
    return servePlain(listener);
  }
  // Behind a proxy, a big SSE hub's memory per subscriber is what counts.
  if (!listener.connectionGuard && listener.streaming) {
    return servePlain(listener);
  }
  const tcp = listen(listener);
  // Turned off: a proxy in front enforces the limits (README, Security).
  const served = listener.connectionGuard
    ? guarded(listener, onConnection)
    : unguarded(listener, onConnection);
  let stopping = false;
  const accepting = loop(tcp, served.take, {
    stopping: () => stopping,
    onError: listener.onAcceptError,
    onRecovered: listener.onAcceptRecovered,
    onConnectionError: listener.onError,
  }).catch((error) => {
    // A bug, not a refused accept: nobody is served here any more, and
    // /readyz must say so until hypha is restarted.
    if (!stopping) listener.onAcceptEnded?.(error);
  });
  return Promise.resolve({
    port: (tcp.addr as Deno.NetAddr).port,
    async stop() {
      stopping = true;
      tcp.close();
      await accepting;
      // Like Deno.serve's shutdown: waits for responses in flight.
      await served.shutdown();
    },
  });
}

/** The listening socket of `listener`, plain or TLS. */
function listen(listener: Listener): Deno.Listener {
  const address = {
    hostname: listener.host,
    port: listener.port,
    // Deno 2.9: unstable (deno.json "unstable": ["net"]).
    reusePort: listener.reusePort,
  };
  // With TLS, ALPN offers h2 first: browsers get HTTP/2 (README, Operations).
  return listener.tls === undefined
    ? Deno.listen(address)
    : Deno.listenTls({ ...address, ...listener.tls, alpnProtocols: ALPN });
}
