/**
 * A delivery thread: serves the SSE connectors' subscribers on ports it
 * shares with the other threads (SO_REUSEPORT), from events the owning
 * thread hands over. It reads the config itself (auth keys, certificates),
 * so nothing but numbers and bytes crosses the boundary. Runtime-neutral:
 * the runtime's thread entry (deno_thread.ts, bun_thread.ts) passes in its
 * server and file reader.
 *
 * @module
 */

import type { SseConnector } from "../config/schema.ts";
import { errorMessage } from "../core/errors.ts";
import type { Listener, RunningServer } from "../core/http/http.ts";
import type { Hub } from "../core/hub/hub.ts";
import { createLogger, internalErrorLog, type Level } from "../core/log.ts";
import { withConsoleIfOn } from "../ops/console.ts";
import { prepareConfig, type Prepared } from "../prepare.ts";
import { createSseConnector } from "../sse_connector.ts";
import type { FromThread, ToThread } from "./protocol.ts";
import { createRemoteLog, type RemoteLog } from "./remote_log.ts";
import { createSharedSlots } from "./shared_slots.ts";
import { type Asker, createAsker } from "./asker.ts";
import { openOnAll, threadWatcher } from "./thread_watcher.ts";

/** What the runtime's thread entry supplies. */
export interface ThreadRuntime {
  readonly serve: (listener: Listener) => Promise<RunningServer>;
  readonly readTextFile: (path: string) => Promise<string>;
  readonly printError: (line: string) => void;
  readonly post: (message: FromThread) => void;
  readonly onMessage: (handler: (message: ToThread) => void) => void;
}

/** How often a thread reports its hubs' counters, when they changed. */
const STATS_EVERY_MS = 250;

/**
 * Runs one delivery thread until the owning thread closes it. Returns what
 * logs an error nobody caught (the entry hooks it up): like the main
 * thread, a thread logs it and serves on.
 */
export function runDeliveryThread(
  runtime: ThreadRuntime,
): (what: string, reason: unknown) => void {
  const { post } = runtime;
  const served = new Map<string, Served>();
  const asker = createAsker(post);
  let init: Extract<ToThread, { t: "init" }> | undefined;
  let prepared: Prepared | undefined;
  let ticker: ReturnType<typeof setInterval> | undefined;

  const report = () => {
    for (const [c, s] of served) {
      const stats = s.hub.stats();
      const text = JSON.stringify(stats);
      if (text === s.reported) continue;
      s.reported = text;
      post({ t: "stats", c, stats });
    }
  };

  const serve = async (m: Extract<ToThread, { t: "serve" }>) => {
    const entry = await serveConnector(runtime, init!, prepared!, asker, m);
    served.set(m.c, entry);
    ticker ??= setInterval(report, STATS_EVERY_MS);
    post({ t: "served", c: m.c, port: entry.server.port });
  };

  const close = async (spreadMs: number) => {
    clearInterval(ticker);
    const stopping = [...served.values()].map((s) => s.server.stop());
    for (const s of served.values()) s.hub.close(spreadMs);
    await Promise.all(stopping);
    await Promise.all([...served.values()].map((s) => s.flushLogs()));
    report();
    post({ t: "closed-all" });
  };

  const unhandled = (what: string, reason: unknown) => {
    const config = prepared?.config;
    createLogger(
      runtime.printError,
      (config?.service.log_level ?? "info") as Level,
      config?.service.log_format,
    ).error(what, { thread: init?.thread, reason: errorMessage(reason) });
  };

  runtime.onMessage((m) => {
    switch (m.t) {
      case "events":
        for (const e of m.events) {
          served.get(e.c)?.log.handed({
            position: e.position,
            id: e.id,
            audience: e.audience,
            frame: m.bytes.subarray(e.start, e.end),
          });
        }
        return;
      case "answer":
        return asker.answered(m);
      case "init":
        init = m;
        prepareConfig(m.configPath, runtime.readTextFile, m.env).then(
          (p) => {
            prepared = p;
            post({ t: "ready" });
          },
          (error) => post({ t: "failed", error: errorMessage(error) }),
        );
        return;
      case "serve":
        serve(m).catch((error) =>
          post({ t: "failed", error: errorMessage(error) })
        );
        return;
      case "interrupted":
        return served.get(m.c)?.log.interrupt(m.reason, m.resumeFrom);
      case "available":
        return served.get(m.c)?.log.setAvailable(m.available);
      case "close":
        close(m.spreadMs);
    }
  });
  return unhandled;
}

/** A connector served on this thread. */
interface Served {
  readonly log: RemoteLog;
  readonly hub: Hub;
  readonly server: RunningServer;
  /** At close: the counts of open rate-limited log windows. */
  readonly flushLogs: () => Promise<void>;
  reported: string;
}

/** Builds connector `m.c`'s hub over the remote log and serves its port. */
async function serveConnector(
  runtime: ThreadRuntime,
  init: Extract<ToThread, { t: "init" }>,
  prepared: Prepared,
  asker: Asker,
  m: Extract<ToThread, { t: "serve" }>,
): Promise<Served> {
  const { post } = runtime;
  const { config, auth, tls } = prepared;
  const c = config.connector[m.c] as SseConnector;
  const counters = new Int32Array(init.counters[m.c]);
  const log = createLogger(
    runtime.printError,
    config.service.log_level as Level,
    config.service.log_format,
  );
  const remote = createRemoteLog(m.c, m.log, asker.ask);
  const sse = createSseConnector(
    m.c,
    c,
    log,
    auth.authorizers[m.c],
    undefined,
    undefined,
    {
      eventLog: remote,
      slots: createSharedSlots(
        m.c,
        counters,
        c.max_connections,
        c.max_connections_per_ip,
        asker.ask,
        (slot) => post({ t: "release", c: m.c, slot }),
      ),
      watcher: threadWatcher(m.c, counters, init, post),
      size: () => openOnAll(counters, init.threads),
    },
  );
  const logInternal = internalErrorLog(log);
  const listener = withConsoleIfOn(sse.listener, m.c, c, config);
  const accept = (kind: "failed" | "recovered" | "ended") => (e?: unknown) =>
    post({ t: "accept", c: m.c, kind, error: errorMessage(e) });
  const server = await runtime.serve({
    ...listener,
    port: m.port,
    reusePort: true,
    tls: tls[m.c],
    onError: (error) => logInternal(m.c, error),
    // Every thread would say the same: the first one speaks.
    onWarning: (message) => {
      if (init.thread === 0) log.warn(message, { connector: m.c });
    },
    onAcceptError: accept("failed"),
    onAcceptRecovered: accept("recovered"),
    onAcceptEnded: accept("ended"),
  });
  const flushLogs = async () => {
    // The remote log's close is nothing; this flushes the connector's logs.
    await sse.stop();
    logInternal.flush();
  };
  return { log: remote, hub: sse.hub, server, flushLogs, reported: "" };
}
