/**
 * Wires a validated config into a running hub: one hub per SSE connector,
 * a publisher per mq connector with a `publisher` table, the flows between
 * them and the sources, and the HTTP listeners the runtime must serve.
 * Runtime-neutral: the entrypoint passes `serve` in.
 *
 * @module
 */

import type { AMQPTlsOptions } from "@cloudamqp/amqp-client";
import {
  type CallbackProbe,
  logCallbackTrouble,
} from "./auth/callback_probe.ts";
import type { Config, SseConnector } from "./config/schema.ts";
import type { Authorizer } from "./core/http/handler.ts";
import type { Listener, RunningServer } from "./core/http/http.ts";
import type { Hub } from "./core/hub/hub.ts";
import type { MercureAuthorizer } from "./mercure/authorizer.ts";
import { internalErrorLog, type Logger } from "./core/log.ts";
import { createAccepting } from "./ops/accepting.ts";
import { withConsoleIfOn } from "./ops/console.ts";
import type { Readiness } from "./ops/readiness.ts";
import { createOps } from "./ops/setup.ts";
import type { TlsPem } from "./ops/tls.ts";
import type { Publisher } from "./rabbitmq/publisher.ts";
import { createPublishers, type Targets } from "./targets.ts";
import type { SseConnectorParts } from "./sse_connector.ts";
import type { Presence } from "./presence/tracker.ts";
import type { Source } from "./sources/source.ts";
import { createSources } from "./source_setup.ts";
import { createSseConnectors, pooled } from "./sse_setup.ts";
import { serveAll } from "./serve_all.ts";
import { startPool } from "./workers/pool.ts";
import type { DeliveryThreads } from "./workers/pooled.ts";

export type { RunningServer } from "./core/http/http.ts";

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
  /** Delivery threads (`[service] workers` >= 2; src/workers). */
  readonly threads?: DeliveryThreads;
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
  const publishers = new Map<string, Publisher>();
  const tls = runtime.tls ?? {};
  const accepting = createAccepting(log);
  const callbacks = runtime.callbacks ?? {};
  const presences = new Map<string, Presence>();
  const ops = await createOps(
    config,
    hubs,
    sources,
    listeners,
    accepting.failing,
    tls,
    callbacks,
    publishers,
  );
  const flushCallbackLogs = watchCallbacks(config, callbacks, log);
  const logInternal = internalErrorLog(log);
  const pool = runtime.threads &&
    await startPool(
      runtime.threads,
      pooled(config),
      config.service.shutdown_spread,
      log,
    );
  const logs = createSseConnectors(config, runtime, hubs, presences, pool);
  for (const sse of logs) {
    const c = config.connector[sse.listener.connector] as SseConnector;
    const listener = withConsoleIfOn(
      sse.listener,
      sse.listener.connector,
      c,
      config,
    );
    listeners.push({ ...listener, tls: tls[sse.listener.connector] });
  }
  await startLogs(logs, hubs);
  await createPublishers(config, runtime.log, runtime.brokerTls, publishers);
  // Publishers connect before sources start, so the first messages find them.
  await Promise.all([...publishers.values()].map((p) => p.start()));
  const targets: Targets = { hubs, publishers };
  sources.push(
    ...await createSources({
      config,
      targets,
      presences,
      log,
      brokerTls: runtime.brokerTls,
      observer: ops.observer,
    }),
  );
  for (const source of sources) {
    if (source.listener) {
      listeners.push({ ...source.listener, tls: tls[source.name] });
    }
  }
  if (ops.listener) listeners.push(ops.listener);

  const stopPublishers = () =>
    Promise.all([...publishers.values()].map((p) => p.stop()));
  const serving = pool
    ? { ...runtime, serve: pool.serveOr(runtime.serve) }
    : runtime;
  const servers = await serveAll(listeners, serving, ops, {
    accepting,
    logInternal,
  }).catch(
    async (error) => {
      for (const hub of hubs.values()) hub.close(0);
      await Promise.all(logs.map((l) => l.stop()));
      await stopPublishers();
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
      // After the sources: what they still send is confirmed or refused.
      await stopPublishers();
      logInternal.flush();
      flushCallbackLogs();
    },
  };
}

/** Logs each auth callback's failures (rate-limited); returns the flush. */
function watchCallbacks(
  config: Config,
  callbacks: Readonly<Record<string, CallbackProbe>>,
  log: Logger,
): () => void {
  const flushes = Object.entries(callbacks).map(([name, probe]) => {
    const c = config.connector[name];
    const max = c?.type === "sse" ? c.auth?.max_inflight ?? 0 : 0;
    return logCallbackTrouble(name, probe, log, max);
  });
  return () => flushes.forEach((flush) => flush());
}

/**
 * A cluster's log attaches to its stream before anyone is served; one that
 * cannot leaves no hub timer behind.
 */
async function startLogs(
  logs: readonly SseConnectorParts[],
  hubs: ReadonlyMap<string, Hub>,
): Promise<void> {
  await Promise.all(logs.map((l) => l.start())).catch(async (error) => {
    for (const hub of hubs.values()) hub.close(0);
    await Promise.all(logs.map((l) => l.stop()));
    throw error;
  });
}

function logFlows(config: Config, log: Logger): void {
  for (const [name, f] of Object.entries(config.flow)) {
    log.info("flow", {
      name,
      from: `${f.from.connector}${
        f.from.operation ? ` ${f.from.operation}` : ""
      }`,
      to: `${f.to.connector}${f.to.operation ? ` ${f.to.operation}` : ""}${
        f.to.target ? ` ${f.to.target}` : ""
      }`,
    });
  }
}
