/**
 * CORS for the SSE endpoint: exact origin match or `*`, preflight answers,
 * `Vary: Origin`, and credentials only with an echoed origin (never `*`).
 *
 * @module
 */

/** CORS settings of one connector; `undefined` origins: same-origin only. */
export interface CorsPolicy {
  readonly origins: readonly string[] | undefined;
  readonly allowCredentials: boolean;
}

/** Headers a browser may send with an EventSource or fetch to the endpoint. */
const ALLOWED_HEADERS = "Authorization, Last-Event-ID, Cache-Control, Accept";

/** No CORS headers: one shared object, as most requests get it. */
export const NO_CORS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The CORS headers for a request's Origin: `null` when the origin is not
 * allowed, an empty object when CORS is not configured or there is no Origin.
 */
export function corsHeaders(
  policy: CorsPolicy,
  origin: string | null,
): Readonly<Record<string, string>> | null {
  if (policy.origins === undefined || origin === null) return NO_CORS;
  const any = policy.origins.includes("*");
  if (!any && !policy.origins.includes(origin)) return null;
  if (any && !policy.allowCredentials) {
    return { "access-control-allow-origin": "*" };
  }
  const headers: Record<string, string> = {
    "access-control-allow-origin": origin,
    "vary": "Origin",
  };
  if (policy.allowCredentials) {
    headers["access-control-allow-credentials"] = "true";
  }
  return headers;
}

/**
 * Headers of a refusal for a disallowed origin: the answer depends on the
 * Origin, so a shared cache must not serve it to an allowed one.
 */
export const REFUSED_ORIGIN_HEADERS: Readonly<Record<string, string>> = {
  "vary": "Origin",
};

/** Extra headers of a successful preflight. */
export const PREFLIGHT_HEADERS: Readonly<Record<string, string>> = {
  "access-control-allow-methods": "GET, OPTIONS",
  "access-control-allow-headers": ALLOWED_HEADERS,
  "access-control-max-age": "600",
};
