/**
 * The limits Deno.serve lacks (Deno 2.9 has no header, body or idle
 * timeout), on connections hypha accepted itself (deno_accept.ts) and
 * serves one by one with Deno's own HTTP server, so it knows when a
 * connection opens, when a request arrives and when a response ends.
 *
 * - A connection must send a request's headers within `requestTimeoutMs` of
 *   opening or of its previous response, else it is closed (slowloris, idle
 *   keep-alive).
 * - At most `maxPendingConnections` may be open with no request in flight;
 *   past that, a new connection waits up to PENDING_GRACE_MS for room, then
 *   is closed.
 * - Bodies are bounded in time by the REST source itself (body.ts).
 *
 * @module
 */

import type { Listener } from "../core/http/http.ts";
import { createTimeouts } from "../core/http/timeouts.ts";
import { connectionInfo } from "./deno_request.ts";
import {
  checkServer,
  type Handler,
  type Served,
  type ServeOnConnection,
} from "./deno_connection.ts";
import { internalError } from "./internal_error.ts";

/**
 * A connection past max_pending_connections waits this long at most for
 * room before it is closed: a connection whose client just left counts as
 * pending until Deno sees the close, and a burst of new connections counts
 * until Deno reads their requests. Neither must refuse well-behaved clients.
 */
const PENDING_GRACE_MS = 500;

/** One accepted connection. */
interface Connection {
  server: Deno.HttpServer<Deno.NetAddr> | undefined;
  inFlight: number;
  /** Counted as pending: open with no request in flight. */
  pending: boolean;
}

/**
 * Closes a connection: at once, as it has no request in flight. Not through
 * the abort signal: Deno 2.9's abort listener cancels a server whose
 * resource may already be gone (its client left and the close is under
 * way), and the BadResource it throws from inside an event listener is an
 * uncaught error no try/catch reaches: it ended the process in a flood of
 * half-open connections. `shutdown()` takes a gone resource as done.
 */
const close = (c: Connection) => void c.server?.shutdown().catch(() => {});

/** Serves connections of `listener` with its request limits. */
export function guarded(
  listener: Listener,
  onConnection: ServeOnConnection,
): Served {
  const connections = new Set<Connection>();
  let pendingCount = 0;
  // One timer for all: a setTimeout per connection costs Deno ~8 µs.
  const timeouts = createTimeouts<Connection>(listener.requestTimeoutMs, close);
  const onError = (error: unknown) => internalError(listener, error);

  /** Wakes the accept loop waiting for room, if it is. */
  let room: (() => void) | undefined;
  const waitForRoom = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => room?.(), PENDING_GRACE_MS);
      room = () => {
        room = undefined;
        clearTimeout(timer);
        resolve();
      };
    });

  const setPending = (c: Connection, pending: boolean) => {
    if (c.pending === pending) return;
    c.pending = pending;
    pendingCount += pending ? 1 : -1;
    if (pending) timeouts.set(c);
    else timeouts.clear(c);
    if (!pending && pendingCount < listener.maxPendingConnections) room?.();
  };

  const track = (conn: Deno.Conn) => {
    const c: Connection = { server: undefined, inFlight: 0, pending: false };
    setPending(c, true);
    const handler: Handler = (request, info) => {
      c.inFlight++;
      setPending(c, false);
      // After the last response the connection is idle again, so it must
      // send its next request in time; a 408's unread body ends there too.
      // (Closing right at `completed` can drop the unflushed response.)
      const done = () => {
        if (--c.inFlight === 0 && connections.has(c)) setPending(c, true);
      };
      info.completed.then(done, done);
      return listener.fetch(request, connectionInfo(request, info));
    };
    c.server = checkServer(
      onConnection(conn, undefined, handler, onError, () => {}),
    );
    connections.add(c);
    const gone = () => {
      connections.delete(c);
      setPending(c, false);
    };
    // Both ways: a rejection left unhandled would end the process.
    c.server.finished.then(gone, gone);
  };

  const admit = async (conn: Deno.Conn) => {
    await waitForRoom();
    if (pendingCount >= listener.maxPendingConnections) conn.close();
    else track(conn);
  };

  return {
    take(conn) {
      if (pendingCount >= listener.maxPendingConnections) return admit(conn);
      track(conn);
      return undefined;
    },
    async shutdown() {
      // Like Deno.serve's shutdown: waits for responses in flight.
      await Promise.all([...connections].map((c) => c.server?.shutdown()));
      timeouts.close();
    },
  };
}
