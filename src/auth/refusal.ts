/**
 * The refusals every subscriber authorizer answers with: plain text, with
 * `WWW-Authenticate` naming the connector as realm (RFC 6750), and the 503
 * of an authorizer that cannot decide now. None of them repeats a
 * credential.
 *
 * @module
 */

import { text } from "../core/http/http.ts";

/** Refusals bound to one connector's realm. */
export interface Refusals {
  /** 401: who the subscriber is is not known (`error` per RFC 6750). */
  unauthorized(reason: string, error?: string): Response;
  /** 403: known, but not allowed what it asked for. */
  forbidden(reason: string): Response;
  /** 503: cannot decide now; the client may come back after `retry-after`. */
  unavailable(reason: string): Response;
}

/** Seconds a client is told to wait after a 503. */
export const RETRY_AFTER_SECONDS = 5;

/** Creates the refusals of connector `connector`. */
export function createRefusals(connector: string): Refusals {
  const realm = `Bearer realm="${connector.replace(/["\\]/g, "")}"`;
  return {
    unauthorized: (reason, error) =>
      text(401, reason, {
        "www-authenticate": error === undefined
          ? realm
          : `${realm}, error="${error}", error_description="${reason}"`,
      }),
    forbidden: (reason) =>
      text(403, reason, {
        "www-authenticate": `${realm}, error="insufficient_scope"`,
      }),
    unavailable: (reason) =>
      text(503, reason, { "retry-after": String(RETRY_AFTER_SECONDS) }),
  };
}
