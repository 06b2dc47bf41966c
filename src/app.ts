/**
 * Wires a validated config into a running hub: one hub per SSE connector,
 * the flows between them and the sources, and the HTTP listeners the runtime
 * must serve. Runtime-neutral: the entrypoint passes `serve` in.
 *
 * @module
 */

import type { AMQPTlsOptions } from "@cloudamqp/amqp-client";
import {
  type CallbackProbe,
  logCallbackTrouble,
} from "./auth/callback_probe.ts";
import type { Config } from "./config/schema.ts";
import { compileFlow, type FlowObserver } from "./core/flows.ts";
import type { Authorizer } from "./core/handler.ts";
import type { Listener } from "./core/http.ts";
import type { Hub } from "./core/hub.ts";
import type { MercureAuthorizer } from "./mercure/authorizer.ts";
import { internalErrorLog, type Logger } from "./core/log.ts";
import { type Accepting, createAccepting } from "./ops/accepting.ts";
import { withConsoleIfOn } from "./ops/console.ts";
import type { Readiness } from "./ops/readiness.ts";
import { createOps } from "./ops/setup.ts";
import type { TlsPem } from "./ops/tls.ts";
import { createSseConnector, type SseConnectorParts } from "./sse_connector.ts";
import { createRestSource } from "./sources/rest.ts";
import type { Source, SourceFlow } from "./sources/source.ts";
import { createStartupHold, startupGrace } from "./sources/startup_grace.ts";

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
  /** Each Mercure connector's authorization (src/mercure/setup.ts). */
  readonly mercure?: Readonly<Record<string, MercureAuthorizer>>;
  /** What each SSE connector's auth callback reports (src/auth/setup.ts). */
  readonly callbacks?: Readonly<Record<string, CallbackProbe>>;
  /** Broker TLS material by mq connector name (see sources/rabbitmq_tls.ts). */
  readonly brokerTls?: Readonly<Record<string, AMQPTlsOptions>>;
  /** Listener certificates by listener name (see src/ops/tls.ts). */
  readonly tls?: Readonly<Record<string, TlsPem>>;
}

/** A running app. */
export interface App {
  /** Ready, or what is not (as /readyz answers). */
  readiness(): Readiness;
  /** Stops sources, tells subscribers when to come back, closes everything. */
  stop(): Promise<void>;
}

/** Starts everything the config describes. */
export async function startApp(config: Config, runtime: Runtime): Promise<App> {
  const { log } = runtime;
  const hubs = new Map<string, Hub>();
  const listeners: Listener[] = [];
  const sources: Source[] = [];
  const tls = runtime.tls ?? {};
  const accepting = createAccepting(log);
  const callbacks = runtime.callbacks ?? {};
  const ops = await createOps(
    config,
    hubs,
    sources,
    listeners,
    accepting.failing,
    tls,
    callbacks,
  );
  watchCallbacks(config, callbacks, log);
  const logs: SseConnectorParts[] = [];
  for (const [name, c] of Object.entries(config.connector)) {
    if (c.type !== "sse") continue;
    const storeName = c.history.store ?? "";
    const store = config.connector[storeName];
    const sse = createSseConnector(
      name,
      c,
      log,
      c.protocol === "mercure"
        ? runtime.mercure?.[name]
        : runtime.authorizers?.[name],
      store?.type === "mq"
        ? { connector: store, tlsOptions: runtime.brokerTls?.[storeName] }
        : undefined,
    );
    hubs.set(name, sse.hub);
    logs.push(sse);
    const listener = withConsoleIfOn(sse.listener, name, c, config);
    listeners.push({ ...listener, tls: tls[name] });
  }
  // A cluster's log attaches to its stream before anyone is served.
  await Promise.all(logs.map((l) => l.start()));
  sources.push(...await createSources(config, hubs, runtime, ops.observer));
  for (const source of sources) {
    if (source.listener) {
      listeners.push({ ...source.listener, tls: tls[source.name] });
    }
  }
  if (ops.listener) listeners.push(ops.listener);

  const servers = await serveAll(listeners, runtime, ops, accepting).catch(
    async (error) => {
      for (const hub of hubs.values()) hub.close(0);
      await Promise.all(logs.map((l) => l.stop()));
      throw error;
    },
  );
  logFlows(config, log);
  await Promise.all(sources.map((s) => s.start()));

  return {
    readiness: ops.readiness,
    async stop() {
      ops.stopping();
      await Promise.all(sources.map((s) => s.stop()));
      const stopping = servers.map((s) => s.stop());
      for (const hub of hubs.values()) {
        hub.close(config.service.shutdown_spread);
      }
      await Promise.all(stopping);
      await Promise.all(logs.map((l) => l.stop()));
    },
  };
}

/** Logs each auth callback's failures (rate-limited). */
function watchCallbacks(
  config: Config,
  callbacks: Readonly<Record<string, CallbackProbe>>,
  log: Logger,
): void {
  for (const [name, probe] of Object.entries(callbacks)) {
    const c = config.connector[name];
    const max = c?.type === "sse" ? c.auth?.max_inflight ?? 0 : 0;
    logCallbackTrouble(name, probe, log, max);
  }
}

/** Each rest or mq connector as a source, with the flows that read it. */
async function createSources(
  config: Config,
  hubs: ReadonlyMap<string, Hub>,
  { log, brokerTls }: Runtime,
  observer: FlowObserver | undefined,
): Promise<Source[]> {
  const flowsOf = (source: string): SourceFlow[] =>
    Object.entries(config.flow)
      .filter(([, f]) => f.from.connector === source)
      .map(([name, f]) => ({
        operation: f.from.operation,
        flow: compileFlow({
          name,
          hub: hubs.get(f.to.connector)!,
          operation: f.to.operation,
          target: f.to.target,
          event: f.to.event,
          filter: f.filter,
          transform: f.transform,
          mercure: f.to,
          observer,
        }),
      }));
  const sources: Source[] = [];
  for (const [name, c] of Object.entries(config.connector)) {
    const context = { flows: flowsOf(name), log };
    if (c.type === "rest") {
      sources.push(createRestSource(name, c, context));
    } else if (c.type === "mq" && !storeOnly(config, name)) {
      const { createRabbitSource } = await import("./sources/rabbitmq.ts");
      const hold = createStartupHold(startupGrace(config, name), log, name);
      sources.push(
        createRabbitSource(name, c, { ...context, hold }, brokerTls?.[name]),
      );
    }
  }
  return sources;
}

/** Binds every listener; on a failure, stops the ones already bound. */
async function serveAll(
  listeners: readonly Listener[],
  runtime: Runtime,
  ops: { bound(listener: string): void },
  accepting: Accepting,
): Promise<RunningServer[]> {
  const servers: RunningServer[] = [];
  const logInternal = internalErrorLog(runtime.log);
  try {
    for (const listener of listeners) {
      const name = listener.connector;
      // The port is known once bound; a failure before that names the asked.
      let address = `${formatHost(listener.host)}:${listener.port}`;
      const server = await runtime.serve({
        ...listener,
        onError: (error) => logInternal(name, error),
        onWarning: (message) => runtime.log.warn(message, { connector: name }),
        onAcceptError: (error) => accepting.failed(name, address, error),
        onAcceptRecovered: () => accepting.recovered(name, address),
      });
      address = `${formatHost(listener.host)}:${server.port}`;
      servers.push(server);
      ops.bound(name);
      runtime.log.info("listening", {
        connector: name,
        url: `${listener.tls ? "https" : "http"}://${address}${listener.path}`,
      });
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    throw error;
  }
  return servers;
}

function logFlows(config: Config, log: Logger): void {
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
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** An mq connector that only holds a cluster's stream consumes nothing. */
function storeOnly(config: Config, name: string): boolean {
  return !Object.values(config.flow).some((f) => f.from.connector === name) &&
    Object.values(config.connector).some((c) =>
      c.type === "sse" && c.history.store === name
    );
}
