/**
 * How many delivery threads `[service] workers` asks for on this machine:
 * "auto" is one per core; where threads cannot share a port (SO_REUSEPORT
 * spreads connections only on Linux) or the runtime offers no threads,
 * hypha says so and serves on one, as with `workers = 1`.
 *
 * @module
 */

import type { Logger } from "../core/log.ts";
import type { DeliveryThreads } from "./pooled.ts";
import type { ThreadPort } from "./protocol.ts";

/** What a runtime entrypoint offers for delivery threads. */
export interface ThreadSupport {
  /** The operating system, as `Deno.build.os` / `process.platform` say. */
  readonly os: string;
  readonly cores: number;
  readonly spawn: () => ThreadPort;
}

/** The threads to start, or undefined to serve on the main thread. */
export function deliveryThreads(
  workers: number | "auto",
  support: ThreadSupport | undefined,
  configPath: string,
  env: Readonly<Record<string, string | undefined>>,
  log: Logger,
): DeliveryThreads | undefined {
  if (workers === 1) return undefined;
  const count = workers === "auto" ? support?.cores ?? 1 : workers;
  if (count < 2) return undefined;
  if (support === undefined || support.os !== "linux") {
    log.warn(
      "service.workers: delivery threads need a port shared between threads (SO_REUSEPORT, Linux); serving on one thread",
      { workers, os: support?.os ?? "unknown" },
    );
    return undefined;
  }
  log.info("delivery threads", { workers: count });
  return { count, spawn: support.spawn, configPath, env };
}
