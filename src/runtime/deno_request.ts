/**
 * What hypha's handlers learn of a request served by Deno: the client's
 * address and one header at a time, each read only when asked for.
 *
 * @module
 */

import type { ConnectionInfo } from "../core/http/http.ts";

/**
 * What hypha's handlers need to know of a request's connection. Deno 2.9
 * cancels a streamed body as soon as its client leaves (also one that was
 * never written to), so nothing else has to watch for that: `completed`
 * is a promise and a pending native op per request, and the address a call
 * into Deno, both left untouched unless asked for (per-address limits).
 */
export function connectionInfo(
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
): ConnectionInfo {
  return {
    get remoteAddr() {
      return info.remoteAddr.hostname;
    },
    cancelsBody: true,
    header: headerReader(request),
  };
}

/** The request's own object in Deno.serve, keyed by a symbol; null: none. */
let innerKey: symbol | null | undefined;

/**
 * Reads one header through Deno.serve's request object (`header(name)`, one
 * native lookup), where `request.headers` would copy every header into the
 * JS heap and keep them for the stream's life: measured on Deno 2.9, 520 B
 * of heap per idle connection for one `headers.get`, 0 this way. Undefined
 * (request.headers is used) where this Deno has no such object.
 */
function headerReader(
  request: Request,
): ((name: string) => string | null) | undefined {
  innerKey ??=
    Object.getOwnPropertySymbols(request).find((key) =>
      typeof Reflect.get(request, key)?.header === "function"
    ) ?? null;
  if (innerKey === null) return undefined;
  const inner = Reflect.get(request, innerKey);
  if (typeof inner?.header !== "function") return undefined;
  return (name) => {
    const value: unknown = inner.header(name);
    return typeof value === "string" ? value : null;
  };
}
