/**
 * What the SSE endpoint answers before a stream is considered: other paths
 * (and the health check), CORS preflight, other methods, refused origins.
 *
 * @module
 */

import {
  corsHeaders,
  PREFLIGHT_HEADERS,
  REFUSED_ORIGIN_HEADERS,
} from "./cors.ts";
import { BASE_HEADERS, type ConnectionInfo, headerOf, text } from "./http.ts";

/** Health check path on every SSE listener. */
export const HEALTH_PATH = "/healthz";

/** What the gate needs of the handler's settings. */
interface GateOptions {
  readonly path: string;
  readonly cors: Parameters<typeof corsHeaders>[0];
}

/**
 * What is answered before a stream is considered: other paths (and the
 * health check), CORS preflight, other methods, refused origins.
 */
export function gate(
  request: Request,
  info: ConnectionInfo,
  options: GateOptions,
  hub: { readonly size: number },
  allow: string,
): Response | { url: URL; cors: Readonly<Record<string, string>> } {
  const url = new URL(request.url);
  if (url.pathname !== options.path) {
    // For load balancers: answers without opening a stream.
    if (url.pathname === HEALTH_PATH && request.method === "GET") {
      return text(200, `ok ${hub.size} connections`);
    }
    return text(404, "not found");
  }
  const cors = corsHeaders(options.cors, headerOf(request, info, "origin"));
  if (request.method === "OPTIONS" && options.cors.origins !== undefined) {
    if (cors === null) {
      return text(403, "origin not allowed", REFUSED_ORIGIN_HEADERS);
    }
    return new Response(null, {
      status: 204,
      headers: { ...BASE_HEADERS, ...cors, ...PREFLIGHT_HEADERS },
    });
  }
  if (request.method !== "GET") {
    return text(405, "method not allowed", { allow });
  }
  if (cors === null) {
    return text(403, "origin not allowed", REFUSED_ORIGIN_HEADERS);
  }
  return { url, cors };
}
