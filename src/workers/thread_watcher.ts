/**
 * A delivery thread's connections, counted where the owning thread reads
 * them: per thread in shared memory (/stats, metrics, /healthz of the
 * process), and told to the owning thread's presence when it keeps one.
 *
 * @module
 */

import type { ConnectionWatcher } from "../core/hub/connection.ts";
import type { FromThread, ToThread } from "./protocol.ts";
import { HELD } from "./shared_slots.ts";

/** Index of thread `thread`'s open connections in a connector's counters. */
export function threadIndex(thread: number): number {
  return HELD + 1 + thread;
}

/** Connections open on all `threads` threads. */
export function openOnAll(counters: Int32Array, threads: number): number {
  let open = 0;
  for (let t = 0; t < threads; t++) {
    open += Atomics.load(counters, threadIndex(t));
  }
  return open;
}

/** The watcher of connector `c` on this thread. */
export function threadWatcher(
  c: string,
  counters: Int32Array,
  init: Extract<ToThread, { t: "init" }>,
  post: (message: FromThread) => void,
): ConnectionWatcher {
  const at = threadIndex(init.thread);
  const watched = init.watched.includes(c);
  // Unique across threads: lifecycle events name connections by it.
  const id = (local: number) => local * init.threads + init.thread;
  return {
    opened(conn) {
      Atomics.add(counters, at, 1);
      if (!watched) return;
      post({
        t: "opened",
        c,
        conn: { id: id(conn.id), rooms: [...conn.rooms], userId: conn.userId },
      });
    },
    closed(conn, reason) {
      Atomics.sub(counters, at, 1);
      if (!watched) return;
      post({
        t: "closed",
        c,
        conn: { id: id(conn.id), rooms: [...conn.rooms], userId: conn.userId },
        reason,
      });
    },
  };
}
