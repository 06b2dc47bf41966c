/**
 * The SSE connector's fetch handler: `GET {path}` opens a stream from the
 * hub. Everything a client sends is checked here, before the hub sees it.
 *
 * @module
 */

import { corsHeaders, type CorsPolicy, PREFLIGHT_HEADERS } from "./cors.ts";
import type { Hub } from "./hub.ts";
import {
  DEFAULT_QUERY_LIMITS,
  parseSubscriberQuery,
  type SubscriberQuery,
} from "./query.ts";

/** What a subscriber may receive, after authentication. */
export interface Grant {
  readonly rooms: ReadonlySet<string>;
  readonly userId: string | undefined;
  /** When the credential expires, ms since the epoch. */
  readonly expiresAt?: number;
}

/** Decides who a subscriber is; a Response refuses the connection. */
export type Authorizer = (
  request: Request,
  query: SubscriberQuery,
) => Grant | Response | Promise<Grant | Response>;

/** What the runtime knows about the connection. */
export interface ConnectionInfo {
  readonly remoteAddr: string;
  /**
   * Settles when the response is over, also when the client vanished.
   * Without it, `request.signal` is used.
   */
  readonly completed?: Promise<unknown>;
}

/** Settings of one SSE connector. */
export interface SseHandlerOptions {
  readonly path: string;
  readonly cors: CorsPolicy;
  readonly maxConnections: number;
  /** 0 turns the limit off. */
  readonly maxConnectionsPerIp: number;
  /** 0 turns it off; streams close at a random time in [0.8, 1] of it. */
  readonly maxLifetimeMs: number;
  readonly retryMs: number;
  /** Absent: every subscriber gets what it asks for, as in the seed. */
  readonly authorize?: Authorizer;
  readonly now?: () => number;
}

/** Health check path on every SSE listener. */
export const HEALTH_PATH = "/healthz";

/** Headers every response carries. */
export const BASE_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
};

const STREAM_HEADERS: Readonly<Record<string, string>> = {
  ...BASE_HEADERS,
  "content-type": "text/event-stream",
  // no-transform keeps proxies and the runtime from compressing the stream.
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
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

/** Creates the fetch handler of an SSE connector bound to `hub`. */
export function createSseHandler(
  hub: Hub,
  options: SseHandlerOptions,
): (request: Request, info: ConnectionInfo) => Promise<Response> {
  const now = options.now ?? Date.now;
  const perIp = new Map<string, number>();
  const allow = options.cors.origins === undefined ? "GET" : "GET, OPTIONS";

  return async (request, info) => {
    const url = new URL(request.url);
    if (url.pathname !== options.path) {
      // For load balancers: answers without opening a stream.
      if (url.pathname === HEALTH_PATH && request.method === "GET") {
        return text(200, `ok ${hub.size} connections`);
      }
      return text(404, "not found");
    }
    const cors = corsHeaders(options.cors, request.headers.get("origin"));
    if (request.method === "OPTIONS" && options.cors.origins !== undefined) {
      if (cors === null) return text(403, "origin not allowed");
      return new Response(null, {
        status: 204,
        headers: { ...BASE_HEADERS, ...cors, ...PREFLIGHT_HEADERS },
      });
    }
    if (request.method !== "GET") {
      return text(405, "method not allowed", { allow });
    }
    if (cors === null) return text(403, "origin not allowed");

    const query = parseSubscriberQuery(url.search, DEFAULT_QUERY_LIMITS);
    if ("error" in query) return text(400, query.error, cors);

    if (hub.size >= options.maxConnections) {
      return text(503, "too many connections", { ...cors, "retry-after": "5" });
    }
    const ip = info.remoteAddr;
    const fromIp = perIp.get(ip) ?? 0;
    if (
      options.maxConnectionsPerIp > 0 && fromIp >= options.maxConnectionsPerIp
    ) {
      return text(429, "too many connections from this address", {
        ...cors,
        "retry-after": "5",
      });
    }

    const grant: Grant | Response = options.authorize === undefined
      ? { rooms: query.rooms, userId: query.userId }
      : await options.authorize(request, query);
    if (grant instanceof Response) {
      for (const [k, v] of Object.entries(cors)) grant.headers.set(k, v);
      return grant;
    }
    // (Deno 2.9 warns about any use of request.signal; there the body's
    // cancel and `completed` report a client that left during auth.)
    if (info.completed === undefined && request.signal.aborted) {
      return text(499, "client closed request");
    }

    // An empty Last-Event-ID means "no id yet", as browsers treat it.
    const lastEventId = request.headers.get("last-event-id") ||
      query.lastEventId || undefined;
    const lifetimeAt = options.maxLifetimeMs > 0
      ? now() + options.maxLifetimeMs * (0.8 + 0.2 * Math.random())
      : undefined;
    const expires = grant.expiresAt !== undefined &&
      (lifetimeAt === undefined || grant.expiresAt < lifetimeAt);

    perIp.set(ip, fromIp + 1);
    const subscriber = hub.subscribe({
      rooms: grant.rooms,
      userId: grant.userId,
      lastEventId,
      closeAt: expires ? grant.expiresAt : lifetimeAt,
      closeReason: expires ? "expired" : "lifetime",
      onClose: () => {
        const left = (perIp.get(ip) ?? 1) - 1;
        if (left <= 0) perIp.delete(ip);
        else perIp.set(ip, left);
      },
    });
    // Runtimes report a vanished client here, sometimes before (or instead
    // of) cancelling the body; disconnect is idempotent.
    if (info.completed) {
      info.completed.then(subscriber.disconnect, subscriber.disconnect);
    } else {
      request.signal.addEventListener("abort", subscriber.disconnect, {
        once: true,
      });
    }
    return new Response(subscriber.stream, {
      status: 200,
      headers: { ...STREAM_HEADERS, ...cors },
    });
  };
}
