/**
 * HTTP pieces every listener shares: the runtime contract (`Listener`,
 * `ConnectionInfo`), plain-text and JSON responses, and the Bearer header.
 *
 * @module
 */

/** What the runtime knows about the connection. */
export interface ConnectionInfo {
  readonly remoteAddr: string;
  /**
   * The runtime cancels a streamed body when its client goes (Bun 1.4,
   * Deno 2.9): nothing else needs to hold the request (Bun: its abort
   * listener kept each request alive, ~0.3 KB per idle stream). Without
   * it, `request.signal` is watched.
   */
  readonly cancelsBody?: boolean;
  /**
   * One request header, read without building `request.headers` (Deno
   * copies every header into the JS heap for that, kept as long as the
   * stream). Absent: `request.headers.get`.
   */
  readonly header?: (name: string) => string | null;
}

/** A request header, the cheapest way the runtime offers. */
export function headerOf(
  request: Request,
  info: ConnectionInfo,
  name: string,
): string | null {
  return info.header === undefined
    ? request.headers.get(name)
    : info.header(name);
}

/** A listener's handler: synchronous where it can be (no promise to wait on). */
export type Fetch = (
  request: Request,
  info: ConnectionInfo,
) => Response | Promise<Response>;

/** An HTTP listener a connector needs the runtime to serve. */
export interface Listener {
  readonly connector: string;
  readonly host: string;
  readonly port: number;
  /** Path shown in the startup log line. */
  readonly path: string;
  /** Lift the runtime's idle timeout: the responses are long-lived streams. */
  readonly streaming: boolean;
  /** PEM certificate and key: serve HTTPS (see src/ops/tls.ts). */
  readonly tls?: { readonly cert: string; readonly key: string };
  /**
   * Headers must arrive within this after the connection opens or its last
   * response ends; a connection idle for this long is closed.
   */
  readonly requestTimeoutMs: number;
  /** Most connections open without a request in flight (see src/runtime). */
  readonly maxPendingConnections: number;
  /**
   * Enforce the two limits above where the runtime cannot (Deno); false
   * when a proxy in front does, to spare the per-connection cost.
   */
  readonly connectionGuard: boolean;
  /**
   * Bind with SO_REUSEPORT, so delivery threads share the port (Linux);
   * the kernel spreads connections over them.
   */
  readonly reusePort?: boolean;
  /** Told of an error the fetch handler threw (the client gets a 500). */
  readonly onError?: (error: unknown) => void;
  /**
   * Told of what the runtime's server cannot do here (a limit it does not
   * enforce), so it reaches the log in its format, never raw on stderr.
   */
  readonly onWarning?: (message: string) => void;
  /**
   * Told each time accepting a connection fails (e.g. EMFILE: out of file
   * descriptors); the runtime retries after a pause. Deno only: Bun's
   * server retries inside uWebSockets and tells nobody.
   */
  readonly onAcceptError?: (error: unknown) => void;
  /** Told once accepting works again after failures. */
  readonly onAcceptRecovered?: () => void;
  /** Told when the listener stopped accepting for good (Deno: a bug). */
  readonly onAcceptEnded?: (error: unknown) => void;
  readonly fetch: Fetch;
}

/** Headers every response carries. */
export const BASE_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
};

const NO_HEADERS: Record<string, string> = {};
const JSON_HEADERS: Readonly<Record<string, string>> = {
  ...BASE_HEADERS,
  "content-type": "application/json",
};

/** A plain-text response; reasons are for people reading curl output. */
export function text(
  status: number,
  body: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(body + "\n", {
    status,
    headers: {
      ...BASE_HEADERS,
      "content-type": "text/plain; charset=utf-8",
      ...headers,
    },
  });
}

/** A JSON response. */
export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = NO_HEADERS,
): Response {
  return new Response(JSON.stringify(body) + "\n", {
    status,
    headers: headers === NO_HEADERS
      ? JSON_HEADERS
      : { ...JSON_HEADERS, ...headers },
  });
}

/** What the runtime answers when a handler throws (it has been logged). */
export function internalError(): Response {
  return text(500, "internal error");
}

/**
 * The token of an `Authorization: Bearer <token>` header: undefined when
 * there is no such header, "malformed" when it is not a Bearer token.
 */
export function bearerToken(
  request: Request,
): string | "malformed" | undefined {
  const header = request.headers.get("authorization");
  if (header === null) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match === null ? "malformed" : match[1];
}

/**
 * The path of an absolute request URL, as `new URL(url).pathname` gives it
 * for the URLs a runtime hands over (already normalised), without parsing
 * the whole URL on every request.
 */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  let end = url.length;
  const query = url.indexOf("?", start);
  if (query !== -1) end = query;
  const hash = url.indexOf("#", start);
  if (hash !== -1 && hash < end) end = hash;
  return url.slice(start, end);
}

/** A listener the runtime has bound. */
export interface RunningServer {
  /** The port actually bound (differs from the config's when that is 0). */
  readonly port: number;
  /** Stops accepting connections; resolves when open requests are done. */
  stop(): Promise<void>;
}
