/**
 * Parses a Mercure subscriber's query: `topic` selectors (one or more),
 * `lastEventID`, and the `authorization` token. Pure and total: a query or
 * a reason fit for a 400.
 *
 * @module
 */

import { MAX_TOPIC_LENGTH } from "../core/flows/mercure_update.ts";

/** What a valid query asks for. */
export interface MercureQuery {
  readonly selectors: readonly string[];
  readonly lastEventId: string | undefined;
  readonly token: string | undefined;
}

/** Most selectors one connection may hold. */
export const MAX_SELECTORS = 64;
/** Longest query string accepted (selectors are URIs). */
export const MAX_MERCURE_QUERY_BYTES = 16_384;

/** Parses `search` (with or without the leading `?`). */
export function parseMercureQuery(
  search: string,
): MercureQuery | { readonly error: string } {
  if (search.length > MAX_MERCURE_QUERY_BYTES) {
    return {
      error: `query string is longer than ${MAX_MERCURE_QUERY_BYTES} bytes`,
    };
  }
  const params = new URLSearchParams(search);
  const selectors = [...new Set(params.getAll("topic"))];
  if (selectors.length === 0) return { error: "missing topic" };
  if (selectors.length > MAX_SELECTORS) {
    return {
      error: `too many topics: at most ${MAX_SELECTORS} per connection`,
    };
  }
  if (selectors.some((s) => s.length > MAX_TOPIC_LENGTH)) {
    return { error: `topic is longer than ${MAX_TOPIC_LENGTH} characters` };
  }
  for (const key of ["lastEventID", "authorization"]) {
    if (params.getAll(key).length > 1) {
      return { error: `${key} is given more than once` };
    }
  }
  return {
    selectors,
    lastEventId: params.get("lastEventID") ?? undefined,
    token: params.get("authorization") ?? undefined,
  };
}
