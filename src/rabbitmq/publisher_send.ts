/**
 * The mq publisher's publish path: refuse at once while the broker is away,
 * blocks publishing or `max_pending` confirms are outstanding; otherwise
 * publish on the current channel and count the outcome. Nothing is buffered.
 *
 * @module
 */

import { errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { rateLimited } from "../core/rate_limited.ts";
import type { PublisherCore } from "./publisher_target.ts";
import type { PublisherState, PublisherWhere } from "./publisher_session.ts";
import type { PublisherCounters } from "./publisher_stats.ts";

/** What the publish path of connector `name` is given. */
export interface SendOptions {
  readonly name: string;
  readonly routingKey: string;
  readonly maxPending: number;
  readonly retryAfterSeconds: number;
  readonly where: PublisherWhere;
  readonly log: Logger;
}

/** The core the publisher's targets use, counting into `counters`. */
export function publisherCore(
  options: SendOptions,
  state: PublisherState,
  counters: PublisherCounters,
): PublisherCore & { retryAfterSeconds: number; flushLogs(): void } {
  const { name, where, log } = options;
  const logFailure = rateLimited(10_000);
  return {
    routingKey: options.routingKey,
    retryAfterSeconds: options.retryAfterSeconds,
    flushLogs: logFailure.flush,
    // Asked once per message and flow, just before sending: a reason here
    // refuses the message, so it is counted here.
    away() {
      const current = state.current;
      const reason = current === undefined
        ? "not connected to the broker"
        : current.client.blocked !== undefined
        ? `the broker blocks publishing (${current.client.blocked})`
        : current.pending >= options.maxPending
        ? `${current.pending} publishes wait for the broker's confirm (publisher.max_pending)`
        : undefined;
      if (reason === undefined) return undefined;
      counters.refused++;
      return `connector ${name}: ${reason}`;
    },
    async publish(routingKey, body, messageId, headers) {
      const channel = state.current;
      if (channel === undefined) {
        counters.failed++;
        throw new Error(`connector ${name}: not connected to the broker`);
      }
      try {
        await channel.publish(routingKey, body, messageId, headers);
        counters.published++;
      } catch (error) {
        counters.failed++;
        const reason = errorMessage(error);
        logFailure(name, (suppressed) =>
          log.warn("publish failed", {
            ...where,
            routing_key: routingKey,
            reason,
            count: suppressed || undefined,
          }));
        throw new Error(`connector ${name}: ${reason}`);
      }
    },
  };
}
