/**
 * Metrics of a clustered SSE connector's stream log, read at scrape time
 * from the counters it keeps (absent without `history.store`).
 *
 * @module
 */

import type { HubStats } from "../core/hub/hub.ts";
import type { define, Sample } from "./scraped.ts";

const C = ["connector"];

/** Per clustered SSE connector: its stream log (absent without `store`). */
export function registerClusterMetrics(
  gauge: ReturnType<typeof define>,
  counter: ReturnType<typeof define>,
  hubs: (read: (name: string, s: HubStats) => Sample[]) => () => Sample[],
): void {
  const cluster = (key: string, map = (v: unknown) => Number(v)) =>
    hubs((c, s) =>
      s.cluster === undefined ? [] : [[{ connector: c }, map(s.cluster[key])]]
    );
  gauge(
    "hypha_cluster_attached",
    "1 while the cluster log follows its stream.",
    C,
    cluster("attached", (v) => v === true ? 1 : 0),
  );
  gauge(
    "hypha_cluster_tail_offset",
    "Stream offset of the newest record this instance has seen.",
    C,
    cluster("tail_offset"),
  );
  gauge(
    "hypha_cluster_pending_appends",
    "Appends waiting for their confirm and their record on the tail.",
    C,
    cluster("pending_appends"),
  );
  gauge(
    "hypha_cluster_blocked",
    "1 while the broker blocks this instance's appends (a resource alarm).",
    C,
    cluster("blocked", (v) => typeof v === "string" ? 1 : 0),
  );
  counter(
    "hypha_cluster_stream_reads_total",
    "Stream consumers opened to read back resumes.",
    C,
    cluster("stream_reads"),
  );
}
