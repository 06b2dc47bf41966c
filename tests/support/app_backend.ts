/**
 * A web app's backend for the auth callback tests: a real HTTP server that
 * knows its sessions by the `sid` cookie and answers hypha's callback as an
 * app would, counts the calls per session, and serves pages on its own
 * origin for browser tests.
 */

import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/** How the app answers for one session. */
export type Behaviour =
  | {
    readonly user_id?: string;
    readonly rooms?: string[];
    readonly expires_at?: number;
    /** Answer only after this long (ms). */
    readonly delay?: number;
    /** Answer only once this settles (the test decides when). */
    readonly hold?: Promise<void>;
  }
  | { readonly status: number; readonly body: string };

/** The JSON hypha posts to the callback. */
export interface CallbackBody {
  readonly connector: string;
  readonly headers: Record<string, string>;
  readonly rooms: string[];
  readonly user_id: string | null;
  readonly origin: string | null;
  readonly client_address: string;
}

/** A running backend. */
export interface AppBackend {
  /** The callback URL to configure in hypha. */
  readonly callback: string;
  /** The app's origin, for CORS and pages. */
  readonly origin: string;
  readonly sessions: Map<string, Behaviour>;
  /** Every callback body received, in order. */
  readonly calls: CallbackBody[];
  /** Calls whose cookie named session `sid`. */
  callsFor(sid: string): number;
  /** HTML pages served by path (GET), for browser tests. */
  readonly pages: Map<string, string>;
  close(): Promise<void>;
}

/** The `sid` cookie of a Cookie header. */
export function sidOf(cookie: string | undefined): string | undefined {
  return cookie?.split(";").map((p) => p.trim().split("="))
    .find(([k]) => k === "sid")?.[1];
}

/** Starts the backend on a free loopback port. */
export async function startAppBackend(): Promise<AppBackend> {
  const sessions = new Map<string, Behaviour>();
  const calls: CallbackBody[] = [];
  const pages = new Map<string, string>();
  const server = createServer((req, res) => {
    if (req.method === "GET") return page(req, res, pages);
    let text = "";
    req.on("data", (chunk) => text += chunk);
    req.on("end", () => {
      const body = JSON.parse(text) as CallbackBody;
      calls.push(body);
      answer(sessions.get(sidOf(body.headers.cookie) ?? ""), res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    callback: `${origin}/sse-auth`,
    origin,
    sessions,
    calls,
    pages,
    callsFor: (sid) =>
      calls.filter((c) => sidOf(c.headers.cookie) === sid).length,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The app's answer: the session's grant, or a refusal. */
function answer(behaviour: Behaviour | undefined, res: ServerResponse): void {
  if (behaviour === undefined) {
    res.writeHead(401, { "content-type": "application/json" });
    res.end(JSON.stringify({ reason: "unknown session" }));
    return;
  }
  if ("status" in behaviour) {
    res.writeHead(behaviour.status, { "content-type": "text/plain" });
    res.end(behaviour.body);
    return;
  }
  const { delay, hold, ...grant } = behaviour;
  const send = () => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(grant));
  };
  if (hold) hold.then(send);
  else if (delay) setTimeout(send, delay);
  else send();
}

/** GET /login?sid=X sets the session cookie; other paths are `pages`. */
function page(
  req: IncomingMessage,
  res: ServerResponse,
  pages: Map<string, string>,
): void {
  const url = new URL(req.url ?? "/", "http://app");
  if (url.pathname === "/login") {
    res.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "set-cookie": `sid=${url.searchParams.get("sid")}; Path=/; HttpOnly`,
    });
    res.end("<p>signed in</p>");
    return;
  }
  const html = pages.get(url.pathname);
  res.writeHead(html === undefined ? 404 : 200, {
    "content-type": "text/html; charset=utf-8",
  });
  res.end(html ?? "not found");
}
