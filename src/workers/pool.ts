/**
 * The owning thread's delivery threads: started before anything listens,
 * each told the config file (it reads it itself). The owning thread keeps
 * sources, flows, ids and event logs; per SSE connector it tees the log's
 * fan-out to the threads (fan_out.ts), answers their resumes, replay reads
 * and per-address slots, and adds their counters to the hub's stats.
 *
 * @module
 */

import type { Listener, RunningServer } from "../core/http/http.ts";
import type { Hub } from "../core/hub/hub.ts";
import type { Logger } from "../core/log.ts";
import { createSlots } from "../core/http/slots.ts";
import type { Presence } from "../presence/tracker.ts";
import type { ThreadedParts } from "../sse_connector.ts";
import { answerAsk } from "./answers.ts";
import {
  createEventBatches,
  type EventBatches,
  threadedLog,
} from "./fan_out.ts";
import type { FromThread, ThreadPort, WatchedConnection } from "./protocol.ts";
import type { Connection } from "../core/hub/connection.ts";
import { threadedHub } from "./threaded_hub.ts";
import type { DeliveryThreads, PooledConnector } from "./pooled.ts";
import { startThreads } from "./threads.ts";

/** A watched connection on the owning thread. */
interface Subscriber {
  readonly id: number;
  readonly rooms: ReadonlySet<string>;
  readonly userId: string | undefined;
}

/** The running pool. */
export interface Pool {
  /** Parts for createSseConnector on the owning thread. */
  parts(name: string): ThreadedParts;
  /** The hub the app and ops see: counters of every thread. */
  hub(name: string, hub: Hub, presence: Presence | undefined): Hub;
  /** Serves `listener` on every thread when it is a pooled connector's. */
  serveOr(
    fallback: (listener: Listener) => Promise<RunningServer>,
  ): (listener: Listener) => Promise<RunningServer>;
}

/** Starts the threads; resolves once each has read the config. */
export async function startPool(
  threads: DeliveryThreads,
  connectors: readonly { name: string; perAddress: number; watched: boolean }[],
  shutdownSpreadMs: number,
  log: Logger,
): Promise<Pool> {
  const pooled = new Map<string, PooledConnector>();
  const counters: Record<string, SharedArrayBuffer> = {};
  for (const { name, perAddress } of connectors) {
    counters[name] = new SharedArrayBuffer(4 * (1 + threads.count));
    pooled.set(name, {
      addresses: createSlots(Number.MAX_SAFE_INTEGER, perAddress),
      slots: new Map(),
      stats: [],
      counters: new Int32Array(counters[name]),
    });
  }
  const ports: ThreadPort[] = [];
  const batches = createEventBatches(ports);
  const onMessage = threadMessages(pooled, ports, batches);
  const running = await startThreads(
    threads,
    counters,
    connectors.filter((c) => c.watched).map((c) => c.name),
    ports,
    onMessage,
    log,
  );
  // A cluster log's attachment comes and goes: threads refuse resumes too.
  const availability = setInterval(() => {
    for (const [c, p] of pooled) {
      const available = p.log?.available !== false;
      if (p.available === available) continue;
      p.available = available;
      batches.broadcast({ t: "available", c, available });
    }
  }, 500);
  let closing: Promise<void> | undefined;
  const stop = () =>
    closing ??= (async () => {
      clearInterval(availability);
      await running.close(shutdownSpreadMs);
    })();

  return {
    parts: (name) => ({
      teeLog: (inner) => {
        pooled.get(name)!.log = inner;
        return threadedLog(name, inner, batches);
      },
    }),
    hub: (name, hub, presence) => {
      const p = pooled.get(name)!;
      p.presence = presence;
      return threadedHub(hub, p);
    },
    serveOr: (fallback) => async (listener) => {
      const p = pooled.get(listener.connector);
      if (p === undefined || !listener.streaming) return fallback(listener);
      p.listener = listener;
      batches.flush();
      const port = await running.serve(listener.connector, listener.port, {
        lastPosition: p.log!.lastPosition,
        lastId: p.log!.lastId,
        shared: p.log!.shared === true,
        available: p.log!.available !== false,
      });
      return { port, stop };
    },
  };
}

/** Handles what the threads tell and ask that no start step waits for. */
function threadMessages(
  pooled: ReadonlyMap<string, PooledConnector>,
  ports: readonly ThreadPort[],
  batches: EventBatches,
): (thread: number, m: FromThread) => void {
  let nextSlot = 0;
  // The same object for the same connection, as presence's index needs.
  const open = new Map<string, Subscriber>();
  const watched = (c: string, conn: WatchedConnection, opened: boolean) => {
    const key = `${c}/${conn.id}`;
    let s = open.get(key);
    if (s === undefined) {
      s = { id: conn.id, rooms: new Set(conn.rooms), userId: conn.userId };
    }
    if (opened) open.set(key, s);
    else open.delete(key);
    return s as unknown as Connection;
  };
  return (thread: number, m: FromThread) => {
    const p = "c" in m ? pooled.get(m.c) : undefined;
    if (m.t === "ask") {
      batches.flush();
      answerAsk(m, pooled, () => ++nextSlot).then(
        (value) => ports[thread].postMessage({ t: "answer", id: m.id, value }),
        (error: Error) =>
          ports[thread].postMessage({
            t: "answer",
            id: m.id,
            error: error.message,
          }),
      );
    } else if (m.t === "release") {
      p?.slots.get(m.slot)?.release();
      p?.slots.delete(m.slot);
    } else if (m.t === "stats" && p) p.stats[thread] = m.stats;
    else if (m.t === "opened") {
      p?.presence?.watcher.opened(watched(m.c, m.conn, true));
    } else if (m.t === "closed") {
      p?.presence?.watcher.closed(watched(m.c, m.conn, false), m.reason);
    } else if (m.t === "accept" && p?.listener) {
      const l = p.listener;
      if (m.kind === "failed") l.onAcceptError?.(new Error(m.error));
      else if (m.kind === "recovered") l.onAcceptRecovered?.();
      else l.onAcceptEnded?.(new Error(m.error));
    }
  };
}
