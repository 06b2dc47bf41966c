/**
 * The counters of one mq publisher and the stats read from them (shown on
 * /stats and as metrics, src/ops/publisher_metrics.ts).
 *
 * @module
 */

import type { PublisherState } from "./publisher_session.ts";

/** Counters of one publisher, shown on /stats and as metrics. */
export interface PublisherStats {
  connected: boolean;
  /** Messages the broker confirmed. */
  published: number;
  /** Publishes refused at once: broker away or blocked, max_pending reached. */
  refused: number;
  /** Publishes sent and not confirmed (nack, returned, timeout, connection lost). */
  failed: number;
  /** Publishes waiting for their confirm now. */
  pending: number;
  /** Connections made after the first one. */
  reconnects: number;
}

/** What the publish path counts. */
export interface PublisherCounters {
  published: number;
  refused: number;
  failed: number;
}

/** The stats now, from the counters and the connection's state. */
export function publisherStats(
  state: PublisherState,
  counters: PublisherCounters,
): PublisherStats {
  return {
    connected: state.current !== undefined,
    published: counters.published,
    refused: counters.refused,
    failed: counters.failed,
    pending: state.current?.pending ?? 0,
    reconnects: Math.max(0, state.connections - 1),
  };
}
