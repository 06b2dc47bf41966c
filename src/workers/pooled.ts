/**
 * What the pool knows of its threads and of each SSE connector it serves.
 *
 * @module
 */

import type { EventLog } from "../core/history/event_log.ts";
import type { Listener } from "../core/http/http.ts";
import type { Hub } from "../core/hub/hub.ts";
import type { LocalSlots, Slot } from "../core/http/slots.ts";
import type { Presence } from "../presence/tracker.ts";
import type { ThreadPort } from "./protocol.ts";

/** What the runtime and main.ts supply to run delivery threads. */
export interface DeliveryThreads {
  readonly count: number;
  readonly spawn: () => ThreadPort;
  readonly configPath: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** One SSE connector as the pool serves it. */
export interface PooledConnector {
  log?: EventLog;
  presence?: Presence;
  readonly addresses: LocalSlots;
  readonly slots: Map<number, Slot>;
  /** Latest stats of each thread. */
  readonly stats: (ReturnType<Hub["stats"]> | undefined)[];
  readonly counters: Int32Array;
  listener?: Listener;
  available?: boolean;
}
