/**
 * The fetch handler of an SSE connector speaking Mercure, at its path
 * (`/.well-known/mercure` by default): `GET` subscribes with `topic`
 * selectors, `POST` publishes a form, `OPTIONS` answers CORS preflights of
 * both (publishers have their own origins). The subscriptions API is not
 * served yet: 501.
 *
 * @module
 */

import {
  corsHeaders,
  type CorsPolicy,
  PREFLIGHT_HEADERS,
  REFUSED_ORIGIN_HEADERS,
} from "../core/http/cors.ts";
import {
  HEALTH_PATH,
  onGone,
  refuseSlot,
  STREAM_HEADERS,
} from "../core/http/handler.ts";
import {
  BASE_HEADERS,
  type ConnectionInfo,
  type Fetch,
  text,
} from "../core/http/http.ts";
import type { Hub } from "../core/hub/hub.ts";
import { createSlots } from "../core/http/slots.ts";
import type { MercureAuthorizer } from "./authorizer.ts";
import { publishForm } from "./publish.ts";
import { parseMercureQuery } from "./subscribe_query.ts";

/** Settings of one Mercure connector. */
export interface MercureHandlerOptions {
  readonly path: string;
  /** Subscribers' origins. */
  readonly cors: CorsPolicy;
  /** Origins browsers may publish from (also with the cookie). */
  readonly publishCors: CorsPolicy;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  readonly maxLifetimeMs: number;
  readonly maxBodyBytes: number;
  readonly authorize: MercureAuthorizer;
  readonly now?: () => number;
  readonly onResumeRefused?: () => void;
}

const PUBLISH_PREFLIGHT = {
  ...PREFLIGHT_HEADERS,
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers":
    "Authorization, Content-Type, Last-Event-ID, Cache-Control, Accept",
};

/** Creates the handler of a Mercure connector bound to `hub`. */
export function createMercureHandler(
  hub: Hub,
  options: MercureHandlerOptions,
): Fetch {
  const now = options.now ?? Date.now;
  const slots = createSlots(
    options.maxConnections,
    options.maxConnectionsPerIp,
  );
  const subscriptions = `${options.path.replace(/\/$/, "")}/subscriptions`;

  return (request, info) => {
    const url = new URL(request.url);
    if (url.pathname !== options.path) {
      if (url.pathname === HEALTH_PATH && request.method === "GET") {
        return text(200, `ok ${hub.size} connections`);
      }
      if (url.pathname.startsWith(subscriptions)) {
        return text(
          501,
          "the subscriptions API is not supported by this hub yet",
        );
      }
      return text(404, "not found");
    }
    const origin = request.headers.get("origin");
    if (request.method === "OPTIONS") {
      return preflight(request, origin, options);
    }
    if (request.method === "POST") {
      return publish(hub, options, request, origin);
    }
    if (request.method !== "GET") {
      return text(405, "method not allowed", { allow: "GET, POST, OPTIONS" });
    }
    return subscribe(request, info, url);
  };

  async function subscribe(
    request: Request,
    info: ConnectionInfo,
    url: URL,
  ): Promise<Response> {
    const cors = corsHeaders(options.cors, request.headers.get("origin"));
    if (cors === null) {
      return text(403, "origin not allowed", REFUSED_ORIGIN_HEADERS);
    }
    const query = parseMercureQuery(url.search);
    if ("error" in query) return text(400, query.error, cors);
    const slot = slots.take(() => info.remoteAddr);
    if (typeof slot === "string") return refuseSlot(slot, cors);
    let settled = false;
    try {
      const grant = await options.authorize.subscriber(request, query.token);
      if (grant instanceof Response) return withHeaders(grant, cors);
      // The header wins over the query parameter, as the spec says.
      const lastEventId = request.headers.get("last-event-id") ||
        query.lastEventId || undefined;
      if (lastEventId !== undefined && !hub.resumable) {
        options.onResumeRefused?.();
        return text(503, "event log unavailable, retry later", {
          ...cors,
          "retry-after": "5",
        });
      }
      const resumed = lastEventId === undefined
        ? undefined
        : await hub.prepareResume(lastEventId);
      const lifetimeAt = options.maxLifetimeMs > 0
        ? now() + options.maxLifetimeMs * (0.8 + 0.2 * Math.random())
        : undefined;
      const expires = grant.expiresAt !== undefined &&
        (lifetimeAt === undefined || grant.expiresAt < lifetimeAt);
      const subscriber = hub.subscribe({
        rooms: NO_ROOMS,
        userId: undefined,
        topics: { selectors: query.selectors, allowed: grant.allowed },
        lastEventId,
        resumed,
        closeAt: expires ? grant.expiresAt : lifetimeAt,
        closeReason: expires ? "expired" : "lifetime",
        onClose: slot.release,
      });
      settled = true;
      onGone(request, info, subscriber.disconnect);
      const headers: Record<string, string> = { ...STREAM_HEADERS, ...cors };
      if (resumed !== undefined) {
        headers["last-event-id"] = resumed.before;
        if (cors["access-control-allow-origin"] !== undefined) {
          headers["access-control-expose-headers"] = "Last-Event-ID";
        }
      }
      return new Response(subscriber.stream, { status: 200, headers });
    } finally {
      if (!settled) slot.release();
    }
  }
}

const NO_ROOMS: ReadonlySet<string> = new Set();

function withHeaders(
  response: Response,
  headers: Readonly<Record<string, string>>,
): Response {
  for (const [k, v] of Object.entries(headers)) response.headers.set(k, v);
  return response;
}

/** A form POST: the publisher's JWT, its origin, then the update. */
async function publish(
  hub: Hub,
  options: MercureHandlerOptions,
  request: Request,
  origin: string | null,
): Promise<Response> {
  const cors = corsHeaders(options.publishCors, origin);
  if (cors === null) {
    return text(403, "origin not allowed", REFUSED_ORIGIN_HEADERS);
  }
  const grant = await options.authorize.publisher(request);
  if (grant instanceof Response) return withHeaders(grant, cors);
  // A cookie rides along with any cross-site form: only origins allowed
  // to publish may use it (CSRF).
  if (
    grant.byCookie && (origin === null ||
      !(options.publishCors.origins ?? []).includes(origin))
  ) {
    return text(403, "publishing with the cookie needs an allowed Origin");
  }
  return publishForm(hub, request, grant, options.maxBodyBytes, cors);
}

/** CORS preflight: the publishers' origins for a POST, else subscribers'. */
function preflight(
  request: Request,
  origin: string | null,
  options: MercureHandlerOptions,
): Response {
  const publishing =
    request.headers.get("access-control-request-method") === "POST";
  const cors = corsHeaders(
    publishing ? options.publishCors : options.cors,
    origin,
  );
  if (cors === null) {
    return text(403, "origin not allowed", REFUSED_ORIGIN_HEADERS);
  }
  return new Response(null, {
    status: 204,
    headers: { ...BASE_HEADERS, ...cors, ...PUBLISH_PREFLIGHT },
  });
}
