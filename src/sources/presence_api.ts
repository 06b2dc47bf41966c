/**
 * Asking who is here, on the REST connector that publishes to an SSE
 * connector with presence (same publisher tokens): `GET /presence/rooms`,
 * `GET /presence/rooms/{room}`, `GET /presence/users/{user_id}`. When the
 * REST connector publishes to several such connectors, `?connector=` names
 * the one asked about.
 *
 * @module
 */

import { json } from "../core/http/http.ts";
import { checkName, DEFAULT_QUERY_LIMITS } from "../core/http/query.ts";
import type { Presence } from "../presence/tracker.ts";
import { splitPath } from "./route.ts";

/** The default and largest `limit` of `GET /presence/rooms`. */
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

/**
 * The answer to a presence request, or undefined when `path` is not under
 * `/presence` (the request is a publish, routed as before).
 */
export function answerPresence(
  request: Request,
  path: string,
  presences: ReadonlyMap<string, Presence>,
): Response | undefined {
  if (presences.size === 0 || !/^\/presence(\/|$)/.test(path)) return undefined;
  if (request.method !== "GET") {
    return json(405, { error: `method ${request.method} not allowed` }, {
      allow: "GET",
    });
  }
  const params = new URL(request.url).searchParams;
  const presence = pick(presences, params.get("connector"));
  if (typeof presence === "string") return json(400, { error: presence });
  const segments = splitPath(path);
  if (segments === undefined) {
    return json(400, { error: "path is not valid UTF-8 percent-encoding" });
  }
  const [, kind, name, ...rest] = segments;
  if (rest.length > 0 || (kind !== "rooms" && kind !== "users")) {
    return json(404, { error: "no presence route for this path" });
  }
  if (name === undefined || name === "") {
    if (kind === "users") {
      return json(404, {
        error: "ask for one user: /presence/users/{user_id}",
      });
    }
    const page = pageOf(params);
    if (typeof page === "string") return json(400, { error: page });
    return json(200, presence.view.list(page.limit, page.after));
  }
  const problem = checkName(
    kind === "rooms" ? "room" : "user_id",
    name,
    DEFAULT_QUERY_LIMITS,
  );
  if (problem !== undefined) return json(400, { error: problem });
  return json(
    200,
    kind === "rooms"
      ? presence.view.room(name, presence.maxMembers)
      : presence.view.user(name),
  );
}

/** The presence asked about, or why none can be picked. */
function pick(
  presences: ReadonlyMap<string, Presence>,
  connector: string | null,
): Presence | string {
  const names = [...presences.keys()].join(", ");
  if (connector === null) {
    if (presences.size === 1) return [...presences.values()][0];
    return `this connector publishes to several with presence (${names}): add ?connector=<name>`;
  }
  return presences.get(connector) ??
    `no presence for connector ${
      JSON.stringify(connector)
    } here; the ones with presence are ${names}`;
}

/** `limit` (1..1000, default 100) and `after` (a room name) of a page. */
function pageOf(
  params: URLSearchParams,
): { limit: number; after: string | undefined } | string {
  const text = params.get("limit");
  const limit = text === null ? DEFAULT_PAGE : Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    return `limit: expected a whole number from 1 to ${MAX_PAGE}, got ${
      JSON.stringify(text)
    }`;
  }
  return { limit, after: params.get("after") ?? undefined };
}
