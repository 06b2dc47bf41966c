/**
 * Presence metrics, per SSE connector with presence on: totals only, never
 * a label per room or user (that would be a series per room). Lifecycle
 * events dropped by a full queue are `hypha_rejected_total{code="dropped"}`.
 *
 * @module
 */

import type { HubStats } from "../core/hub/hub.ts";

type Sample = readonly [Record<string, string>, number];
/** metrics.ts's gauge definer (passed in: no import back into it). */
type DefineGauge = (
  name: string,
  help: string,
  labelNames: string[],
  read: () => Sample[],
) => void;

/** Registers the gauges; `hubs` reads every hub's stats at scrape time. */
export function registerPresenceMetrics(
  gauge: DefineGauge,
  hubs: (read: (name: string, s: HubStats) => Sample[]) => () => Sample[],
): void {
  const C = ["connector"];
  const presence = (key: string) =>
    hubs((c, s) =>
      s.presence === undefined ? [] : [[{ connector: c }, s.presence[key]]]
    );
  gauge(
    "hypha_presence_rooms",
    "Rooms with a connection on this instance (presence on).",
    C,
    presence("rooms"),
  );
  gauge(
    "hypha_presence_users",
    "Distinct user ids connected to this instance (presence on).",
    C,
    presence("users"),
  );
  gauge(
    "hypha_presence_occupied_rooms",
    "Rooms announced occupied, cluster-wide (presence on).",
    C,
    presence("occupied"),
  );
}
