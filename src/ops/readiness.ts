/**
 * Readiness: every listener is bound and accepting connections (not out
 * of file descriptors), every broker connector is connected
 * and consuming, every RabbitMQ publisher is connected, and every cluster
 * log is attached to its stream. A load
 * balancer stops sending new subscribers to an instance that is not ready;
 * subscribers already connected keep their streams.
 *
 * @module
 */

import type { Source } from "../sources/source.ts";

/** Ready, or the reason of each part that is not. */
export type Readiness =
  | { readonly ready: true }
  | { readonly ready: false; readonly failing: readonly string[] };

/** What readiness looks at. */
export interface ReadinessParts {
  /** Names of the listeners that must be bound. */
  readonly listeners: readonly string[];
  /** Names of the listeners bound so far. */
  readonly bound: ReadonlySet<string>;
  /** Listeners that cannot accept connections now, with the reason. */
  readonly notAccepting: ReadonlyMap<string, string>;
  readonly sources: readonly Source[];
  /** RabbitMQ publishers: not ready while one has no broker. */
  readonly publishers?: readonly {
    readonly name: string;
    stats(): { readonly connected: boolean };
  }[];
  /**
   * Each SSE connector's cluster log: undefined when it takes events, else
   * why not (not attached, publishing blocked); a connector without a
   * cluster log is absent.
   */
  readonly clusters: ReadonlyMap<string, string | undefined>;
  /** True once shutdown began. */
  readonly stopping: () => boolean;
}

/** Checks every part now. */
export function checkReadiness(parts: ReadinessParts): Readiness {
  const failing: string[] = [];
  if (parts.stopping()) failing.push("hypha is shutting down");
  for (const name of parts.listeners) {
    if (!parts.bound.has(name)) failing.push(`${name}: not listening`);
    const refused = parts.notAccepting.get(name);
    if (refused !== undefined) {
      failing.push(`${name}: cannot accept connections (${refused})`);
    }
  }
  for (const source of parts.sources) {
    // Only broker sources report `connected`; REST is ready once it listens.
    const { connected, consuming, held } = source.stats();
    // Held for the startup grace on purpose: subscribers must come in.
    if (held) continue;
    if (connected === false) {
      failing.push(`${source.name}: not connected to the broker`);
    } else if (consuming === false) {
      failing.push(`${source.name}: connected but not consuming`);
    }
  }
  for (const publisher of parts.publishers ?? []) {
    if (!publisher.stats().connected) {
      failing.push(`${publisher.name}: publisher not connected to the broker`);
    }
  }
  for (const [name, problem] of parts.clusters) {
    // It takes no new events: send new subscribers elsewhere.
    if (problem !== undefined) failing.push(`${name}: ${problem}`);
  }
  return failing.length === 0 ? { ready: true } : { ready: false, failing };
}
