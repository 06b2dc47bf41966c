/**
 * A flow's target on an mq publisher: the flow's `target` is the routing
 * key (the publisher's `routing_key` when the flow has none), the event's
 * data is the message body, and headers say which flow and source sent it.
 * Every failure is an UnavailableError: the sender retries, and a retry
 * may publish a message twice (at least once, never silently dropped).
 *
 * @module
 */

import { shortStringProblem } from "../config/check_broker.ts";
import type { Target } from "../core/flows/target.ts";
import { UnavailableError } from "../core/flows/unavailable.ts";

/** The part of a publisher its targets use. */
export interface PublisherCore {
  readonly routingKey: string;
  /** Why nothing can be published now, or undefined. */
  away(): string | undefined;
  publish(
    routingKey: string,
    body: string,
    messageId: string,
    headers: Readonly<Record<string, string>>,
  ): Promise<void>;
}

/** Creates the target of flow `flow` (fed by connector `source`). */
export function publisherTarget(
  core: PublisherCore & { readonly retryAfterSeconds: number },
  flow: string,
  source: string,
): Target {
  // One headers object per flow, shared by all its messages.
  const headers = Object.freeze({
    "x-hypha-flow": flow,
    "x-hypha-source": source,
  });
  return {
    names: "routing_key",
    fallback: core.routingKey,
    shared: false,
    publishes: true,
    check: shortStringProblem,
    away() {
      const reason = core.away();
      return reason === undefined
        ? undefined
        : new UnavailableError(reason, core.retryAfterSeconds);
    },
    async send({ names, data, key }) {
      // The input's identity when it has one, so consumers can dedupe.
      const messageId = key ?? crypto.randomUUID();
      try {
        await core.publish(names![0], data, messageId, headers);
      } catch (error) {
        throw new UnavailableError(
          error instanceof Error ? error.message : String(error),
          core.retryAfterSeconds,
        );
      }
      return { id: messageId, delivered: 0 };
    },
  };
}
