/**
 * REST route templates of the upstream example: `POST /notify`,
 * `POST /notify/:room`, `POST /notify/user/:user_id`. A `:name` segment
 * captures one path segment into `input.<name>`. A route carries the flows
 * that read it, so matching a request finds them directly.
 *
 * @module
 */

import type { Flow } from "../core/flows/flows.ts";
import type { SourceFlow } from "./source.ts";

/** A compiled route template and the flows behind it. */
export interface Route {
  readonly template: string;
  readonly method: string;
  readonly segments: readonly string[];
  readonly flows: readonly Flow[];
}

/** Groups flows by route; the config check has validated each template. */
export function compileRoutes(flows: readonly SourceFlow[]): Route[] {
  const byTemplate = new Map<string, Flow[]>();
  for (const { operation, flow } of flows) {
    const template = operation!;
    byTemplate.set(template, [...byTemplate.get(template) ?? [], flow]);
  }
  return [...byTemplate].map(([template, flows]) => {
    const [method, path] = template.split(" ");
    return { template, method, segments: path.split("/").slice(1), flows };
  });
}

/** The captured params when `path` fits the route's shape, else undefined. */
export function matchPath(
  route: Route,
  path: readonly string[],
): Record<string, string> | undefined {
  if (path.length !== route.segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < path.length; i++) {
    const segment = route.segments[i];
    if (segment.startsWith(":")) {
      if (path[i] === "") return undefined;
      params[segment.slice(1)] = path[i];
    } else if (segment !== path[i]) return undefined;
  }
  return params;
}

/** Splits and decodes a URL path; undefined when its encoding is broken. */
export function splitPath(pathname: string): string[] | undefined {
  const segments = pathname.split("/").slice(1);
  // Most paths hold no escapes: nothing to decode.
  if (!pathname.includes("%")) return segments;
  try {
    return segments.map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

/** A request's route and params, or the refusal (and what to count). */
export type RouteMatch =
  | { readonly route: Route; readonly params: Record<string, string> }
  | {
    readonly status: number;
    readonly error: string;
    /** Counted as a rejection when set. */
    readonly code?: string;
    readonly headers?: Record<string, string>;
  };

/** Finds the route for `method` and `pathname`: 400, 404 or 405 otherwise. */
export function findRoute(
  routes: readonly Route[],
  method: string,
  pathname: string,
): RouteMatch {
  const path = splitPath(pathname);
  if (path === undefined) {
    return {
      status: 400,
      code: "bad_path",
      error: "path is not valid UTF-8 percent-encoding",
    };
  }
  const fits = routes
    .map((route) => ({ route, params: matchPath(route, path) }))
    .filter((m) => m.params !== undefined);
  if (fits.length === 0) {
    return { status: 404, error: "no route for this path" };
  }
  const hit = fits.find((m) => m.route.method === method);
  if (hit === undefined) {
    const allow = [...new Set(fits.map((m) => m.route.method))].join(", ");
    return {
      status: 405,
      error: `method ${method} not allowed`,
      headers: { allow },
    };
  }
  return { route: hit.route, params: hit.params! };
}
