/**
 * Wires a validated config into a running hub: one hub per SSE connector,
 * the flows between them and the sources, and the HTTP listeners the runtime
 * must serve. Runtime-neutral: the entrypoint passes `serve` in.
 *
 * @module
 */

import type { Config, SseConnector } from "./config/schema.ts";
import { createRouter, type FlowSpec } from "./core/flows.ts";
import { type Authorizer, createSseHandler } from "./core/handler.ts";
import { createHub, type Hub } from "./core/hub.ts";
import { type Logger, rateLimited } from "./core/log.ts";
import { compileTopic } from "./core/topic.ts";
import { createRestSource } from "./sources/rest.ts";
import type { Listener, Source } from "./sources/source.ts";

/** A listener the runtime has bound. */
export interface RunningServer {
  /** The port actually bound (differs from the config's when that is 0). */
  readonly port: number;
  /** Stops accepting connections; resolves when open requests are done. */
  stop(): Promise<void>;
}

/** What the runtime provides to the app. */
export interface Runtime {
  readonly serve: (listener: Listener) => Promise<RunningServer>;
  readonly log: Logger;
  /** Subscriber authentication by SSE connector name (see src/auth/setup.ts). */
  readonly authorizers?: Readonly<Record<string, Authorizer>>;
}

/** A running app. */
export interface App {
  /** Stops sources, tells subscribers when to come back, closes everything. */
  stop(): Promise<void>;
}

/** Starts everything the config describes. */
export async function startApp(config: Config, runtime: Runtime): Promise<App> {
  const { log } = runtime;
  const hubs = new Map<string, Hub>();
  const listeners: Listener[] = [];
  const logSlow = rateLimited(10_000);
  for (const [name, c] of Object.entries(config.connector)) {
    if (c.type !== "sse") continue;
    const hub = createHub({
      heartbeatMs: c.heartbeat_interval,
      retryMs: c.retry,
      maxBufferedBytes: c.max_buffered,
      history: {
        size: c.history.size,
        maxBytes: c.history.max_bytes,
        ttlMs: c.history.ttl,
      },
      gapEvent: c.gap_event,
      onClosed: (reason) => {
        if (reason !== "slow") return;
        logSlow(
          name,
          (suppressed) =>
            log.warn("disconnected a subscriber that fell too far behind", {
              connector: name,
              max_buffered: c.max_buffered,
              suppressed: suppressed || undefined,
            }),
        );
      },
    });
    hubs.set(name, hub);
    listeners.push(
      sseListener(name, c, hub, log, runtime.authorizers?.[name]),
    );
  }

  const specs: FlowSpec[] = Object.entries(config.flow).map(([name, f]) => {
    const source = config.connector[f.from.connector];
    const operation = f.from.operation;
    return {
      name,
      source: f.from.connector,
      matches: source.type === "rest"
        ? (key: string) => key === operation
        : compileTopic(operation ?? "#"),
      hub: hubs.get(f.to.connector)!,
      operation: f.to.operation,
      target: f.to.target,
      event: f.to.event,
    };
  });
  const router = createRouter(specs);

  const sources: Source[] = [];
  const stats = () => ({
    hubs: Object.fromEntries([...hubs].map(([n, h]) => [n, h.stats()])),
    sources: Object.fromEntries(sources.map((s) => [s.name, s.stats()])),
  });
  for (const [name, c] of Object.entries(config.connector)) {
    if (c.type === "rest") {
      const routes = Object.values(config.flow)
        .filter((f) => f.from.connector === name)
        .map((f) => f.from.operation!);
      sources.push(createRestSource(name, c, routes, { router, log }, stats));
    } else if (c.type === "mq") {
      const { createRabbitSource } = await import("./sources/rabbitmq.ts");
      sources.push(createRabbitSource(name, c, { router, log }));
    }
  }
  for (const source of sources) {
    if (source.listener) listeners.push(source.listener);
  }

  const servers: RunningServer[] = [];
  try {
    for (const listener of listeners) {
      const server = await runtime.serve(listener);
      servers.push(server);
      log.info("listening", {
        connector: listener.connector,
        url: `http://${
          formatHost(listener.host)
        }:${server.port}${listener.path}`,
      });
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    for (const hub of hubs.values()) hub.close(0);
    throw error;
  }
  for (const [name, f] of Object.entries(config.flow)) {
    log.info("flow", {
      name,
      from: `${f.from.connector}${
        f.from.operation ? ` ${f.from.operation}` : ""
      }`,
      to: `${f.to.connector} ${f.to.operation}${
        f.to.target ? ` ${f.to.target}` : ""
      }`,
    });
  }
  await Promise.all(sources.map((s) => s.start()));

  return {
    async stop() {
      await Promise.all(sources.map((s) => s.stop()));
      const stopping = servers.map((s) => s.stop());
      for (const hub of hubs.values()) {
        hub.close(config.service.shutdown_spread);
      }
      await Promise.all(stopping);
    },
  };
}

function sseListener(
  name: string,
  c: SseConnector,
  hub: Hub,
  log: Logger,
  authorize: Authorizer | undefined,
): Listener {
  if (authorize === undefined) {
    log.warn(
      "subscribers are unauthenticated: any client may join any room or user_id",
      {
        connector: name,
      },
    );
  }
  const origins = c.cors === undefined
    ? undefined
    : [...(c.cors.allowed_origins ?? []), ...(c.cors.origins ?? [])];
  const fetch = createSseHandler(hub, {
    path: c.path,
    cors: { origins, allowCredentials: c.cors?.allow_credentials ?? false },
    maxConnections: c.max_connections,
    maxConnectionsPerIp: c.max_connections_per_ip,
    maxLifetimeMs: c.max_lifetime,
    retryMs: c.retry,
    authorize,
  });
  return {
    connector: name,
    host: c.host,
    port: c.port,
    path: c.path,
    streaming: true,
    fetch,
  };
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
