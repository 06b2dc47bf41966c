/**
 * Loopback addresses: a listener bound to one is reachable from this
 * machine only, so it is trusted as being behind something local (a reverse
 * proxy on the same host, a developer's shell).
 *
 * @module
 */

/** True for hosts only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Whether hypha guards a listener's connections itself (Deno: its own accept
 * loop and an HTTP server per connection, for `request_timeout` and
 * `max_pending_connections`). Unset, it does unless the listener is bound
 * to loopback: there the only clients are local (a proxy enforcing its own
 * timeouts), and the guard's ~12 KB and extra CPU per connection buy nothing.
 */
export function guardsConnections(
  listener: { readonly host: string; readonly connection_guard?: boolean },
): boolean {
  return listener.connection_guard ?? !isLoopback(listener.host);
}
