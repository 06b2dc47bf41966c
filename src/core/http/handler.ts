/**
 * The SSE connector's fetch handler: `GET {path}` opens a stream from the
 * hub. Everything a client sends is checked here, before the hub sees it.
 *
 * @module
 */

import { type CorsPolicy, NO_CORS } from "./cors.ts";
import {
  BASE_HEADERS,
  type ConnectionInfo,
  type Fetch,
  headerOf,
  text,
} from "./http.ts";
import type { Hub } from "../hub/hub.ts";
import {
  DEFAULT_QUERY_LIMITS,
  parseSubscriberQuery,
  type SubscriberQuery,
} from "./query.ts";
import { gate } from "./handler_gate.ts";
import { createSlots, type Slot, type Slots, type Taken } from "./slots.ts";

/** What a subscriber may receive, after authentication. */
export interface Grant {
  readonly rooms: ReadonlySet<string>;
  readonly userId: string | undefined;
  /** When the credential expires, ms since the epoch. */
  readonly expiresAt?: number;
}

/**
 * Decides who a subscriber is; a Response refuses the connection. `info`
 * gives the client's address and the runtime's cheap header reader.
 */
export type Authorizer = (
  request: Request,
  query: SubscriberQuery,
  info: ConnectionInfo,
) => Grant | Response | Promise<Grant | Response>;

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
  /** Told of each resume refused because the log is away (to log it). */
  readonly onResumeRefused?: () => void;
  /**
   * The limits' counts, when they are shared with other threads; absent:
   * this handler's own (maxConnections, maxConnectionsPerIp).
   */
  readonly slots?: Slots;
}

export { HEALTH_PATH } from "./handler_gate.ts";

export const STREAM_HEADERS: Readonly<Record<string, string>> = {
  ...BASE_HEADERS,
  "content-type": "text/event-stream",
  // no-transform keeps proxies and the runtime from compressing the stream.
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
};

/** Creates the fetch handler of an SSE connector bound to `hub`. */
export function createSseHandler(
  hub: Hub,
  options: SseHandlerOptions,
): Fetch {
  const now = options.now ?? Date.now;
  // A slot is taken before the (async) authorization and kept by the
  // stream, so connections that arrive together cannot pass the limits.
  const slots = options.slots ?? createSlots(
    options.maxConnections,
    options.maxConnectionsPerIp,
  );
  const allow = options.cors.origins === undefined ? "GET" : "GET, OPTIONS";
  const ctx = { hub, options, now };

  // Synchronous unless the authorizer is not: no promise per connection
  // for the runtime to wait on.
  return (request, info) => {
    const passed = gate(request, info, options, hub, allow);
    if (passed instanceof Response) return passed;
    const { url, cors } = passed;
    const query = parseSubscriberQuery(url.search, DEFAULT_QUERY_LIMITS);
    if ("error" in query) return text(400, query.error, cors);

    const taken = slots.take(() => info.remoteAddr);
    if (!(taken instanceof Promise)) {
      return authorized(request, info, query, taken, cors);
    }
    return taken.then((t) => authorized(request, info, query, t, cors));
  };

  /** Refuses a full limit, or asks the authorizer and answers. */
  function authorized(
    request: Request,
    info: ConnectionInfo,
    query: SubscriberQuery,
    slot: Taken,
    cors: Readonly<Record<string, string>>,
  ): Response | Promise<Response> {
    if (typeof slot === "string") return refuseSlot(slot, cors);
    if (options.authorize === undefined) {
      const grant = { rooms: query.rooms, userId: query.userId };
      return answer(ctx, request, info, query, grant, slot, cors);
    }
    let granted: ReturnType<Authorizer>;
    try {
      granted = options.authorize(request, query, info);
    } catch (error) {
      slot.release();
      throw error;
    }
    const settle = (grant: Grant | Response) =>
      answer(ctx, request, info, query, grant, slot, cors);
    if (!(granted instanceof Promise)) return settle(granted);
    return granted.then(settle, (error) => {
      slot.release();
      throw error;
    });
  }
}

/** 503 when the listener is full, 429 when the client's address is. */
export function refuseSlot(
  limit: "full" | "ip_full",
  cors: Readonly<Record<string, string>>,
): Response {
  const headers = { ...cors, "retry-after": "5" };
  return limit === "full"
    ? text(503, "too many connections", headers)
    : text(429, "too many connections from this address", headers);
}

/**
 * Calls `disconnect` when the client is gone. Runtimes report that here,
 * sometimes before (or instead of) cancelling the body; it is idempotent.
 * A runtime that cancels the body reliably needs no listener here.
 */
export function onGone(
  request: Request,
  info: ConnectionInfo,
  disconnect: () => void,
): void {
  if (info.cancelsBody) return;
  request.signal.addEventListener("abort", disconnect, { once: true });
}

/** The authorizer's refusal, or the stream the grant allows. */
function answer(
  ctx: {
    readonly hub: Hub;
    readonly options: SseHandlerOptions;
    readonly now: () => number;
  },
  request: Request,
  info: ConnectionInfo,
  query: SubscriberQuery,
  grant: Grant | Response,
  slot: Slot,
  cors: Readonly<Record<string, string>>,
): Response {
  if (grant instanceof Response) {
    slot.release();
    for (const [k, v] of Object.entries(cors)) grant.headers.set(k, v);
    return grant;
  }
  // Where the runtime cancels the body, that reports a client that left
  // during auth; request.signal is the last resort (Bun allocates it on
  // first use, Deno 2.9 warns about any use).
  if (!info.cancelsBody && request.signal.aborted) {
    slot.release();
    return text(499, "client closed request");
  }

  // The stream keeps the slot. An empty Last-Event-ID means "no id yet",
  // as browsers treat it.
  const lastEventId = headerOf(request, info, "last-event-id") ||
    query.lastEventId || undefined;
  if (lastEventId !== undefined && !ctx.hub.resumable) {
    // Nothing here can prove what the client missed: it retries later,
    // or elsewhere, with its id intact.
    slot.release();
    ctx.options.onResumeRefused?.();
    return text(503, "event log unavailable, retry later", {
      ...cors,
      "retry-after": "5",
    });
  }
  const lifetimeAt = ctx.options.maxLifetimeMs > 0
    ? ctx.now() + ctx.options.maxLifetimeMs * (0.8 + 0.2 * Math.random())
    : undefined;
  const expires = grant.expiresAt !== undefined &&
    (lifetimeAt === undefined || grant.expiresAt < lifetimeAt);

  const subscriber = ctx.hub.subscribe({
    rooms: grant.rooms,
    userId: grant.userId,
    lastEventId,
    closeAt: expires ? grant.expiresAt : lifetimeAt,
    closeReason: expires ? "expired" : "lifetime",
    onClose: slot.release,
  });
  onGone(request, info, subscriber.disconnect);
  return new Response(subscriber.stream, {
    status: 200,
    headers: cors === NO_CORS ? STREAM_HEADERS : { ...STREAM_HEADERS, ...cors },
  });
}
