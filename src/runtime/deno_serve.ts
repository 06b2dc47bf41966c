/**
 * Deno's HTTP listener with the limits Deno.serve lacks (Deno 2.9 has no
 * header, body or idle timeout): hypha accepts TCP connections itself and
 * hands each one to Deno's own HTTP server, so it knows when a connection
 * opens, when a request arrives and when a response ends.
 *
 * - A connection must send a request's headers within `requestTimeoutMs` of
 *   opening or of its previous response, else it is closed (slowloris, idle
 *   keep-alive).
 * - At most `maxPendingConnections` may be open with no request in flight;
 *   past that, a new connection waits up to PENDING_GRACE_MS for room, then
 *   is closed.
 * - Bodies are bounded in time by the REST source itself (body.ts).
 *
 * It uses `Deno[Deno.internal].serveHttpOnConnection` (Deno 2.9), the same
 * server Deno.serve runs per connection: responses take the same native path,
 * so streams cost nothing more. Measured: keep-alive requests/s unchanged;
 * a new connection per request ~10-35 % slower (noisy, shared 2-core box).
 * When that internal is missing, Deno.serve is used without these limits and
 * a warning says so.
 *
 * @module
 */

import type { RunningServer } from "../app.ts";
import type { ConnectionInfo, Listener } from "../core/http.ts";
import { createTimeouts } from "../core/timeouts.ts";
import { internalError } from "./internal_error.ts";

type Handler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** The shape of the internal, as Deno 2.9 defines it. */
type ServeOnConnection = (
  conn: Deno.Conn,
  signal: AbortSignal,
  handler: Handler,
  onError: (error: unknown) => Response,
  onListen: () => void,
) => Deno.HttpServer<Deno.NetAddr>;

function serveOnConnection(): ServeOnConnection | undefined {
  const internal = Reflect.get(Deno, Reflect.get(Deno, "internal") ?? "");
  const fn = internal?.serveHttpOnConnection;
  return typeof fn === "function" ? fn : undefined;
}

/** What a TLS listener offers, in order of preference. */
const ALPN = ["h2", "http/1.1"];

/**
 * A connection past max_pending_connections waits this long at most for
 * room before it is closed: a connection whose client just left counts as
 * pending until Deno sees the close, and a burst of new connections counts
 * until Deno reads their requests. Neither must refuse well-behaved clients.
 */
const PENDING_GRACE_MS = 500;

/** Pause after a failed accept (e.g. EMFILE) before the next one. */
const ACCEPT_RETRY_MS = 100;

/** One accepted connection. */
interface Connection {
  readonly abort: AbortController;
  server: Deno.HttpServer<Deno.NetAddr> | undefined;
  inFlight: number;
  /** Counted as pending: open with no request in flight. */
  pending: boolean;
}

/** Serves `listener` with request timeouts; a fallback is told to onWarning. */
export function serveDeno(listener: Listener): Promise<RunningServer> {
  // Turned off: a proxy in front enforces the limits (README, Security).
  if (!listener.connectionGuard) return servePlain(listener);
  const onConnection = serveOnConnection();
  if (onConnection === undefined) {
    listener.onWarning?.(
      "this Deno has no serveHttpOnConnection internal: request_timeout and max_pending_connections are not enforced",
    );
    return servePlain(listener);
  }
  const tcp = listen(listener);
  const connections = new Set<Connection>();
  let pendingCount = 0;
  // Aborting shuts the connection down gracefully: at once, as it is idle.
  // One timer for all: a setTimeout per connection costs Deno ~8 µs.
  const timeouts = createTimeouts<Connection>(
    listener.requestTimeoutMs,
    (c) => c.abort.abort(),
  );

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
    const c: Connection = {
      abort: new AbortController(),
      server: undefined,
      inFlight: 0,
      pending: false,
    };
    setPending(c, true);
    const handler: Handler = (request, info) => {
      c.inFlight++;
      setPending(c, false);
      // After the last response the connection is idle again, so it must
      // send its next request in time; a 408's unread body ends there too.
      // (Aborting right at `completed` can drop the unflushed response.)
      const done = () => {
        if (--c.inFlight === 0 && connections.has(c)) setPending(c, true);
      };
      info.completed.then(done, done);
      return listener.fetch(request, connectionInfo(request, info));
    };
    c.server = onConnection(
      conn,
      c.abort.signal,
      handler,
      (error) => internalError(listener, error),
      () => {},
    );
    connections.add(c);
    const gone = () => {
      connections.delete(c);
      setPending(c, false);
    };
    // Both ways: a rejection left unhandled would end the process.
    c.server.finished.then(gone, gone);
  };

  let stopping = false;
  const accepting = (async () => {
    while (!stopping) {
      let conn: Deno.Conn;
      try {
        conn = await tcp.accept();
      } catch {
        if (stopping) return;
        // Out of descriptors (EMFILE) under a flood: keep accepting later.
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      if (pendingCount >= listener.maxPendingConnections) {
        await waitForRoom();
        if (pendingCount >= listener.maxPendingConnections) {
          conn.close();
          continue;
        }
      }
      track(conn);
    }
  })();

  return Promise.resolve({
    port: (tcp.addr as Deno.NetAddr).port,
    async stop() {
      stopping = true;
      tcp.close();
      await accepting;
      // Like Deno.serve's shutdown: waits for responses in flight.
      await Promise.all([...connections].map((c) => c.server?.shutdown()));
      timeouts.close();
    },
  });
}

/** The listening socket of `listener`, plain or TLS. */
function listen(listener: Listener): Deno.Listener {
  const address = { hostname: listener.host, port: listener.port };
  // With TLS, ALPN offers h2 first: browsers get HTTP/2 (README, Operations).
  return listener.tls === undefined
    ? Deno.listen(address)
    : Deno.listenTls({ ...address, ...listener.tls, alpnProtocols: ALPN });
}

/**
 * What hypha's handlers need to know of a request's connection. Deno 2.9
 * cancels a streamed body as soon as its client leaves (also one that was
 * never written to), so nothing else has to watch for that: `completed`
 * is a promise and a pending native op per request, and the address a call
 * into Deno, both left untouched unless asked for (per-address limits).
 */
function connectionInfo(
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
): ConnectionInfo {
  return {
    get remoteAddr() {
      return info.remoteAddr.hostname;
    },
    cancelsBody: true,
    header: headerReader(request),
  };
}

/** The request's own object in Deno.serve, keyed by a symbol; null: none. */
let innerKey: symbol | null | undefined;

/**
 * Reads one header through Deno.serve's request object (`header(name)`, one
 * native lookup), where `request.headers` would copy every header into the
 * JS heap and keep them for the stream's life: measured on Deno 2.9, 520 B
 * of heap per idle connection for one `headers.get`, 0 this way. Undefined
 * (request.headers is used) where this Deno has no such object.
 */
function headerReader(
  request: Request,
): ((name: string) => string | null) | undefined {
  innerKey ??=
    Object.getOwnPropertySymbols(request).find((key) =>
      typeof Reflect.get(request, key)?.header === "function"
    ) ?? null;
  if (innerKey === null) return undefined;
  const inner = Reflect.get(request, innerKey);
  if (typeof inner?.header !== "function") return undefined;
  return (name) => {
    const value: unknown = inner.header(name);
    return typeof value === "string" ? value : null;
  };
}

/** Deno.serve as is: no header, idle or pending-connection limits. */
function servePlain(listener: Listener): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    try {
      const server = Deno.serve(
        {
          hostname: listener.host,
          port: listener.port,
          ...listener.tls,
          onListen: ({ port }) =>
            resolve({ port, stop: () => server.shutdown() }),
          onError: (error) => internalError(listener, error),
        },
        (request, info) =>
          listener.fetch(request, connectionInfo(request, info)),
      );
    } catch (error) {
      reject(error);
    }
  });
}
