/**
 * The seam between message sources and the rest of hypha. A source turns
 * what arrives (an HTTP request, an AMQP delivery) into a `Message` and asks
 * the router to send it; it may own an HTTP listener.
 *
 * @module
 */

import type { ConnectionInfo } from "../core/handler.ts";
import type { Logger } from "../core/log.ts";
import type { Router } from "../core/flows.ts";

/** An HTTP listener a connector needs the runtime to serve. */
export interface Listener {
  readonly connector: string;
  readonly host: string;
  readonly port: number;
  /** Path shown in the startup log line. */
  readonly path: string;
  /** Lift the runtime's idle timeout: the responses are long-lived streams. */
  readonly streaming: boolean;
  readonly fetch: (request: Request, info: ConnectionInfo) => Promise<Response>;
}

/** Counters every source keeps, shown on /stats. */
export interface SourceStats {
  received: number;
  delivered: number;
  rejected: Record<string, number>;
  /** For broker sources: whether the source is connected right now. */
  connected?: boolean;
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

/** What every source gets from the app. */
export interface SourceContext {
  readonly router: Router;
  readonly log: Logger;
}

/** Counts a rejection under its code. */
export function countRejection(stats: SourceStats, code: string): void {
  stats.rejected[code] = (stats.rejected[code] ?? 0) + 1;
}
