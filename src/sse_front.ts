/**
 * The protocol front ends of an SSE connector: hypha's own (rooms, users)
 * and Mercure's (topic selectors, private updates, form publish), both over
 * the same hub.
 *
 * @module
 */

import type { SseConnector } from "./config/schema.ts";
import { type Authorizer, createSseHandler } from "./core/http/handler.ts";
import type { Fetch } from "./core/http/http.ts";
import type { Hub } from "./core/hub/hub.ts";
import type { Slots } from "./core/http/slots.ts";
import type { Logger } from "./core/log.ts";
import type { RateLimited } from "./core/rate_limited.ts";
import type { MercureAuthorizer } from "./mercure/authorizer.ts";
import { createMercureHandler } from "./mercure/handler.ts";

/** The fetch handler of connector `name`, by its `protocol`. */
export function frontEnd(
  name: string,
  c: SseConnector,
  hub: Hub,
  log: Logger,
  authorize: Authorizer | MercureAuthorizer | undefined,
  logLimited: RateLimited,
  /** Delivery threads: shared slots; quiet: warnings were logged once. */
  options: { readonly slots?: Slots; readonly quiet?: boolean } = {},
): Fetch {
  return c.protocol === "mercure"
    ? mercureFetch(
      name,
      c,
      hub,
      log,
      authorize as MercureAuthorizer,
      logLimited,
    )
    : sseFetch(
      name,
      c,
      hub,
      log,
      authorize as Authorizer,
      logLimited,
      options,
    );
}

/** The Mercure front end of the connector (src/mercure/). */
function mercureFetch(
  name: string,
  c: SseConnector,
  hub: Hub,
  log: Logger,
  authorize: MercureAuthorizer,
  logLimited: RateLimited,
) {
  if (c.auth === undefined) {
    log.warn(
      "Mercure subscribers are anonymous: they receive public updates only",
      { connector: name },
    );
  }
  return createMercureHandler(hub, {
    ...common(c),
    publishCors: corsOf(c, c.cors?.publish_origins),
    maxBodyBytes: c.max_body,
    authorize,
    onResumeRefused: () => resumeRefused(name, log, logLimited),
  });
}

function resumeRefused(
  name: string,
  log: Logger,
  logLimited: RateLimited,
): void {
  logLimited(
    `${name}.resume`,
    (suppressed) =>
      log.warn(
        "refused resuming subscribers: the cluster log is not attached",
        { connector: name, count: suppressed || undefined },
      ),
  );
}

/** hypha's own SSE front end: rooms and users. */
function sseFetch(
  name: string,
  c: SseConnector,
  hub: Hub,
  log: Logger,
  authorize: Authorizer | undefined,
  logLimited: RateLimited,
  options: { readonly slots?: Slots; readonly quiet?: boolean },
) {
  if (authorize === undefined && !options.quiet) {
    log.warn(
      "subscribers are unauthenticated: any client may join any room or user_id",
      { connector: name },
    );
  }
  return createSseHandler(hub, {
    ...common(c),
    retryMs: c.retry,
    authorize,
    slots: options.slots,
    onResumeRefused: () => resumeRefused(name, log, logLimited),
  });
}

/** The CORS policy of `origins` with the connector's credentials setting. */
function corsOf(c: SseConnector, origins: readonly string[] | undefined) {
  return { origins, allowCredentials: c.cors?.allow_credentials ?? false };
}

/** What both front ends take from the connector alike. */
function common(c: SseConnector) {
  return {
    path: c.path,
    cors: corsOf(c, c.cors?.allowed_origins),
    maxConnections: c.max_connections,
    maxConnectionsPerIp: c.max_connections_per_ip,
    maxLifetimeMs: c.max_lifetime,
  };
}
