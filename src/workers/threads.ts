/**
 * Starting, serving on and closing the delivery threads themselves: each
 * step waits for every thread's answer. The first thread binds a
 * connector's port (the config's, possibly 0); the others bind the port it
 * got, so all of them share one.
 *
 * @module
 */

import { errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { DeliveryThreads } from "./pooled.ts";
import type { FromThread, LogState, ThreadPort } from "./protocol.ts";

/** The threads, started. */
export interface RunningThreads {
  /** Serves connector `c` on every thread; resolves with the bound port. */
  serve(c: string, port: number, state: LogState): Promise<number>;
  /** Retires every stream on every thread, stops them, ends them. */
  close(spreadMs: number): Promise<void>;
}

/** Spawns `threads.count` threads into `ports`; each reads the config. */
export async function startThreads(
  threads: DeliveryThreads,
  counters: Record<string, SharedArrayBuffer>,
  watched: readonly string[],
  ports: ThreadPort[],
  onMessage: (thread: number, message: FromThread) => void,
  log: Logger,
): Promise<RunningThreads> {
  /** Per thread: what a step waits for ("ready", "served:c", "closed-all"). */
  const waiting = new Map<string, {
    resolve: (m: FromThread) => void;
    reject: (e: Error) => void;
  }>();
  const expect = (thread: number, key: string) =>
    new Promise<FromThread>((resolve, reject) =>
      waiting.set(`${thread} ${key}`, { resolve, reject })
    );
  const fail = (thread: number, error: Error) => {
    for (const [key, w] of waiting) {
      if (!key.startsWith(`${thread} `)) continue;
      waiting.delete(key);
      w.reject(error);
    }
  };
  for (let thread = 0; thread < threads.count; thread++) {
    const port = threads.spawn();
    ports.push(port);
    port.addEventListener("message", (event: MessageEvent) => {
      const m = event.data as FromThread;
      const key = m.t === "served" ? `served:${m.c}` : m.t;
      const w = waiting.get(`${thread} ${key}`);
      if (m.t === "failed") return fail(thread, new Error(m.error));
      if (w === undefined) return onMessage(thread, m);
      waiting.delete(`${thread} ${key}`);
      w.resolve(m);
    });
    port.addEventListener("error", (event: ErrorEvent) => {
      event.preventDefault?.();
      const reason = errorMessage(event.error ?? event.message);
      log.error("delivery thread failed", { thread, reason });
      fail(thread, new Error(reason));
      for (const c of Object.keys(counters)) {
        onMessage(thread, { t: "accept", c, kind: "ended", error: reason });
      }
    });
    port.postMessage({
      t: "init",
      configPath: threads.configPath,
      env: threads.env,
      thread,
      threads: threads.count,
      counters,
      watched,
    });
  }
  const all = (key: string) =>
    Promise.all(ports.map((_, thread) => expect(thread, key)));
  await all("ready");
  return {
    async serve(c, port, state) {
      const first = expect(0, `served:${c}`);
      ports[0].postMessage({ t: "serve", c, port, log: state });
      const bound = (await first as { port: number }).port;
      const rest = ports.slice(1).map((p, i) => {
        const served = expect(i + 1, `served:${c}`);
        p.postMessage({ t: "serve", c, port: bound, log: state });
        return served;
      });
      await Promise.all(rest);
      return bound;
    },
    async close(spreadMs) {
      const closed = all("closed-all");
      for (const p of ports) p.postMessage({ t: "close", spreadMs });
      await closed.catch(() => {});
      for (const p of ports) p.terminate?.();
    },
  };
}
