/**
 * The seam between message sources and the rest of hypha. A source turns
 * what arrives (an HTTP request, an AMQP delivery) into a `Message`, picks
 * the flows that read it (its own matching rule: a route for REST, a
 * routing-key pattern for AMQP) and sends it through them; it may own an
 * HTTP listener.
 *
 * @module
 */

import type { StartupHold } from "./startup_grace.ts";
import type { Flow } from "../core/flows/flows.ts";
import type { Listener } from "../core/http/http.ts";
import type { Logger } from "../core/log.ts";

/** Counters every source keeps, shown on /stats. */
export interface SourceStats {
  received: number;
  delivered: number;
  /** Messages every matching flow's filter dropped (acked, not errors). */
  filtered: number;
  rejected: Record<string, number>;
  /** For broker sources: whether the source is connected right now. */
  connected?: boolean;
  /** For broker sources: connections made after the first one. */
  reconnects?: number;
  /** For broker sources: whether a consumer is running on the queue now. */
  consuming?: boolean;
  /** For broker sources: held back for the startup grace. */
  held?: boolean;
  /** For the lifecycle source: events waiting for their flows. */
  queued?: number;
}

/** A running source. */
export interface Source {
  readonly name: string;
  readonly listener?: Listener;
  /** Starts consuming; must not throw when a broker is down (it retries). */
  start(): Promise<void>;
  /** Stops consuming; acked work stays acked, unacked work is released. */
  stop(): Promise<void>;
  stats(): SourceStats;
}

/** A flow of a source, with what it reads: `from.operation` as written. */
export interface SourceFlow {
  readonly operation: string | undefined;
  readonly flow: Flow;
}

/** What every source gets from the app. */
export interface SourceContext {
  /** The flows that read from this source. */
  readonly flows: readonly SourceFlow[];
  readonly log: Logger;
  /** Broker sources: the startup grace (see startup_grace.ts). */
  readonly hold?: StartupHold;
}

/** Counts a message the flows took: sent, or dropped by every filter. */
export function countRouted(stats: SourceStats, flows: number): void {
  if (flows === 0) stats.filtered++;
  else stats.delivered++;
}

/** Counts a rejection under its code. */
export function countRejection(stats: SourceStats, code: string): void {
  stats.rejected[code] = (stats.rejected[code] ?? 0) + 1;
}
