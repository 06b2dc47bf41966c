/**
 * The admin listener's fetch handler: `/metrics` (Prometheus text format),
 * `/healthz`, `/readyz` and `/stats` (JSON counters). With tokens, `/metrics`
 * and `/stats` need `Authorization: Bearer <token>`, checked like the
 * publish API's; the probes stay open, since load balancers often cannot
 * send headers and they reveal only names and states.
 *
 * @module
 */

import type { Registry } from "prom-client";
import { guardsConnections } from "../config/loopback.ts";
import type { AdminListener } from "../config/schema_parts.ts";
import {
  BASE_HEADERS,
  bearerToken,
  json,
  type Listener,
  text,
} from "../core/http/http.ts";
import { createTokenCheck } from "../sources/publisher_auth.ts";
import type { Readiness } from "./readiness.ts";
import { ADMIN_LISTENER, type TlsPem } from "./tls.ts";

/** What the admin listener shows. */
export interface AdminParts {
  readonly registry: Registry;
  readonly readiness: () => Readiness;
  readonly stats: () => unknown;
}

/** The admin listener for `config`. */
export function createAdminListener(
  config: AdminListener,
  parts: AdminParts,
  tls: TlsPem | undefined,
): Listener {
  // An empty token (an unset variable) never matches; see check_auth.ts.
  const tokens = config.auth?.tokens.filter((t) => t !== "") ?? [];
  const checkToken = tokens.length > 0 ? createTokenCheck(tokens) : undefined;

  /** Undefined when allowed, else the 401 (RFC 6750 error only for a bad token). */
  const refusal = async (request: Request) => {
    if (checkToken === undefined) return undefined;
    const token = bearerToken(request);
    if (
      token !== undefined && token !== "malformed" && await checkToken(token)
    ) {
      return undefined;
    }
    const error = token === undefined ? "" : ', error="invalid_token"';
    return text(401, "a valid admin token is required", {
      "www-authenticate": `Bearer realm="admin"${error}`,
    });
  };

  const fetch = async (request: Request) => {
    const { pathname } = new URL(request.url);
    if (request.method !== "GET" && request.method !== "HEAD") {
      return text(405, "method not allowed", { allow: "GET, HEAD" });
    }
    switch (pathname) {
      case "/healthz":
        return text(200, "ok");
      case "/readyz": {
        const state = parts.readiness();
        return state.ready
          ? text(200, "ready")
          : text(503, ["not ready", ...state.failing].join("\n"));
      }
      case "/metrics":
      case "/stats": {
        const refused = await refusal(request);
        if (refused !== undefined) return refused;
        if (pathname === "/stats") return json(200, parts.stats());
        return new Response(await parts.registry.metrics(), {
          headers: {
            ...BASE_HEADERS,
            "content-type": parts.registry.contentType,
          },
        });
      }
      default:
        return text(404, "not found");
    }
  };

  return {
    connector: ADMIN_LISTENER,
    host: config.host,
    port: config.port,
    path: "/metrics",
    streaming: false,
    requestTimeoutMs: config.request_timeout,
    maxPendingConnections: config.max_pending_connections,
    connectionGuard: guardsConnections(config),
    tls,
    fetch,
  };
}
