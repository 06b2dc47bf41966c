/**
 * An SSE connector's hub as the app and ops see it with delivery threads:
 * publishing goes to the owning thread's hub (and log); connections and
 * delivery counters are the threads' added up.
 *
 * @module
 */

import type { CloseReason, Hub, HubStats } from "../core/hub/hub.ts";
import type { PooledConnector } from "./pooled.ts";
import { openOnAll, threadIndex } from "./thread_watcher.ts";

/** `hub`, counting what the threads of `p` report. */
export function threadedHub(
  hub: Hub,
  p: PooledConnector,
): Hub {
  const perThread = () =>
    p.counters.length <= 1 ? [] : Array.from(
      { length: p.counters.length - 1 },
      (_, t) => Atomics.load(p.counters, threadIndex(t)),
    );
  return {
    subscribe: (request) => hub.subscribe(request),
    prepareResume: (lastEventId) => hub.prepareResume(lastEventId),
    publish: (audience, event, data, key, extra) =>
      hub.publish(audience, event, data, key, extra),
    shared: hub.shared,
    get resumable() {
      return hub.resumable;
    },
    get size() {
      return openOnAll(p.counters, p.counters.length - 1);
    },
    stats(): HubStats {
      const own = hub.stats();
      const threads = perThread();
      const total = { ...own, threads, closed: { ...own.closed } };
      total.connections = threads.reduce((a, b) => a + b, 0);
      total.rooms = total.users = 0;
      for (const s of p.stats) {
        if (s === undefined) continue;
        total.rooms += s.rooms;
        total.users += s.users;
        total.deliveries += s.deliveries;
        total.gaps += s.gaps;
        for (const [k, v] of Object.entries(s.closed)) {
          total.closed[k as CloseReason] += v;
        }
        const reasons = total.gapReasons = { ...total.gapReasons };
        for (const [k, v] of Object.entries(s.gapReasons)) {
          reasons[k] = (reasons[k] ?? 0) + v;
        }
      }
      return total;
    },
    close: (spreadMs) => hub.close(spreadMs),
  };
}
