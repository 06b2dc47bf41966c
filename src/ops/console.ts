/**
 * `console = true` on an SSE connector serves the live console at
 * `GET /console` on that connector's listener. The page is static; the
 * connector's settings it needs (path, gap event, event names of its flows,
 * how a token may be sent) are written into it as JSON. It never gets more
 * than an EventSource with the same query and token would.
 *
 * @module
 */

import type { Config, SseConnector } from "../config/schema.ts";
import { isExpression } from "../core/flows/expression.ts";
import { BASE_HEADERS, type Fetch, type Listener } from "../core/http/http.ts";
import { CONSOLE_HTML, CONSOLE_SCRIPT } from "./console_page.ts";

/** Path of the console on the SSE listener. */
export const CONSOLE_PATH = "/console";

/** What the page is told about its connector. */
export interface ConsoleSettings {
  readonly path: string;
  readonly gap: string;
  /** Static event names of the flows to this connector. */
  readonly events: readonly string[];
  /** How the page may send a token. */
  readonly auth: "none" | "query" | "cookie";
  readonly cookie: string;
}

/** The SSE listener of connector `name`, with the console when it is on. */
export function withConsoleIfOn(
  listener: Listener,
  name: string,
  c: SseConnector,
  config: Config,
): Listener {
  if (!c.console) return listener;
  return {
    ...listener,
    fetch: withConsole(listener.fetch, consoleSettings(name, c, config)),
  };
}

/** What the page needs to know about connector `name`. */
function consoleSettings(
  name: string,
  c: SseConnector,
  config: Config,
): ConsoleSettings {
  const events = Object.values(config.flow)
    .filter((f) => f.to.connector === name && f.to.event !== undefined)
    .map((f) => f.to.event!)
    .filter((e) => !isExpression(e));
  return {
    path: c.path,
    gap: c.gap_event,
    events: [...new Set(["message", ...events])],
    auth: c.auth === undefined
      ? "none"
      : c.auth.allow_query_token
      ? "query"
      : "cookie",
    cookie: c.auth === undefined ? "" : c.auth.cookie ?? "hypha_token",
  };
}

/** Wraps an SSE handler so that `GET /console` serves the page. */
export function withConsole(fetch: Fetch, settings: ConsoleSettings): Fetch {
  // "<" escaped: the JSON sits inside a <script> element.
  const html = CONSOLE_HTML.replace(
    "__CONFIG__",
    JSON.stringify(settings).replaceAll("<", "\\u003c"),
  );
  const headers = scriptHash().then((hash) => ({
    ...BASE_HEADERS,
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    // Only this page's own script runs; it may only talk to this origin.
    "content-security-policy":
      `default-src 'none'; script-src 'sha256-${hash}'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  }));
  return (request, info) => {
    const { pathname } = new URL(request.url);
    if (pathname !== CONSOLE_PATH || settings.path === CONSOLE_PATH) {
      return fetch(request, info);
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return fetch(request, info);
    }
    return headers.then((h) => new Response(html, { headers: h }));
  };
}

async function scriptHash(): Promise<string> {
  const bytes = new TextEncoder().encode(CONSOLE_SCRIPT);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return btoa(String.fromCharCode(...digest));
}
