/** Hubs over an in-memory log, for in-process tests. */
import type { Appended } from "../../src/core/history/event_log.ts";
import {
  createHub,
  type Hub,
  type HubOptions,
} from "../../src/core/hub/hub.ts";
import { createMemoryLog } from "../../src/core/history/memory_log.ts";
import type { HistoryLimits } from "../../src/core/history/history.ts";

/** Hub settings without the log, plus the in-memory history's bounds. */
export type TestHubOptions = Omit<HubOptions, "log"> & {
  readonly history: HistoryLimits;
};

export const HUB_DEFAULTS: TestHubOptions = {
  heartbeatMs: 60_000,
  retryMs: 1000,
  maxBufferedBytes: 1 << 20,
  history: { size: 1000, maxBytes: 1 << 24, ttlMs: 60_000 },
  gapEvent: "gap",
};

/** A hub over a fresh in-memory log. */
export function testHub(options: Partial<TestHubOptions> = {}): Hub {
  const { history, ...rest } = { ...HUB_DEFAULTS, ...options };
  return createHub({
    ...rest,
    log: createMemoryLog({ history, now: rest.now }),
  });
}

/** How many connections an in-memory publish reached. */
export function delivered(appended: Appended | Promise<Appended>): number {
  if (appended instanceof Promise) {
    throw new Error("an in-memory log appends synchronously");
  }
  return appended.delivered;
}
