/**
 * The SSE connector as a source: its lifecycle (`connected`,
 * `disconnected`, `room_occupied`, `room_vacated`) enters flows like any
 * message. Events wait in one bounded queue and are sent a batch per loop
 * turn, so a connect storm never holds up delivery; a target that is away
 * (503, an `UnavailableError`) is retried, and what no longer fits the queue
 * is dropped and counted (`rejected.dropped`), never held without bound.
 *
 * @module
 */

import { LIFECYCLE_OPERATIONS } from "../config/schema.ts";
import { errorMessage } from "../core/errors.ts";
import { type Flow, sendThrough } from "../core/flows/flows.ts";
import { rateLimited } from "../core/rate_limited.ts";
import type { LifecycleSink } from "../presence/tracker.ts";
import {
  countRejection,
  countRouted,
  type Source,
  type SourceContext,
  type SourceStats,
} from "./source.ts";
import { UnavailableError } from "../core/flows/unavailable.ts";
import { createSendQueue } from "./lifecycle_queue.ts";

export { LIFECYCLE_OPERATIONS };

/** One of {@link LIFECYCLE_OPERATIONS}. */
export type LifecycleOperation = typeof LIFECYCLE_OPERATIONS[number];

/**
 * The lifecycle source of one SSE connector; `emit` queues one event, or
 * drops (and counts) it when the queue is full.
 */
export interface LifecycleSource extends Source, LifecycleSink {}

/** Sizing of the queue and the retry pace. */
export interface LifecycleOptions {
  /** Most events waiting; past it new ones are dropped and counted. */
  readonly queueSize: number;
  /** Wait before retrying a target that was away. */
  readonly retryMs: number;
}

type Pending = {
  operation: LifecycleOperation;
  input: Record<string, unknown>;
};

/** Creates the source; events queue from now, and flow once started. */
export function createLifecycleSource(
  name: string,
  context: SourceContext,
  options: LifecycleOptions,
): LifecycleSource {
  const byOperation = flowsByOperation(context);
  const stats: SourceStats = {
    received: 0,
    delivered: 0,
    filtered: 0,
    rejected: {},
  };
  const logLimited = rateLimited(10_000);
  const warn = (message: string, reason: string) =>
    logLimited(`${name}.${message}`, (suppressed) =>
      context.log.warn(message, {
        connector: name,
        reason,
        count: suppressed || undefined,
      }));

  /** Sends one event; false when the target is away (retry it later). */
  const send = async (p: Pending): Promise<boolean> => {
    const meta = { connector: name, operation: p.operation };
    const message = { input: p.input, meta };
    try {
      const outcome = await sendThrough(
        byOperation.get(p.operation)!,
        message,
        p.operation,
      );
      if (outcome.ok) countRouted(stats, outcome.flows);
      else {
        countRejection(stats, outcome.code);
        warn("lifecycle event refused", outcome.reason);
      }
      return true;
    } catch (error) {
      if (error instanceof UnavailableError) {
        warn("lifecycle target unavailable, retrying", errorMessage(error));
        return false;
      }
      countRejection(stats, "failed");
      warn("lifecycle event failed", errorMessage(error));
      return true;
    }
  };
  const queue = createSendQueue(send, options.retryMs);

  return {
    name,
    wants: (operation) => byOperation.has(operation),
    emit(operation, input) {
      if (!byOperation.has(operation)) return;
      stats.received++;
      if (queue.size >= options.queueSize) {
        countRejection(stats, "dropped");
        warn(
          "lifecycle queue full, dropping events",
          `${options.queueSize} waiting`,
        );
        return;
      }
      queue.push({ operation, input });
    },
    start() {
      queue.start();
      return Promise.resolve();
    },
    stop() {
      queue.stop();
      logLimited.flush();
      return Promise.resolve();
    },
    stats: () => ({ ...structuredClone(stats), queued: queue.size }),
  };
}

/** The flows of each operation; a flow without an operation reads them all. */
function flowsByOperation(
  context: SourceContext,
): Map<LifecycleOperation, Flow[]> {
  const byOperation = new Map<LifecycleOperation, Flow[]>();
  for (const { operation, flow } of context.flows) {
    for (const op of LIFECYCLE_OPERATIONS) {
      if (operation !== undefined && operation !== op) continue;
      byOperation.set(op, [...byOperation.get(op) ?? [], flow]);
    }
  }
  return byOperation;
}
