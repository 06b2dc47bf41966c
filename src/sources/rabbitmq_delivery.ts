/**
 * One AMQP delivery: parse the body, route it through the flows, then ack,
 * or nack without requeue when it can never be delivered. The ack comes only
 * after `route()` returned ok, i.e. after the hub queued the event to its
 * subscribers, so a crash before that point leaves the message on the broker.
 *
 * @module
 */

import type { AMQPMessage, AMQPProperties } from "@cloudamqp/amqp-client";
import { errorMessage } from "../core/errors.ts";
import { type Flow, type Outcome, sendThrough } from "../core/flows/flows.ts";
import { UnavailableError } from "../core/flows/unavailable.ts";
import type { Logger } from "../core/log.ts";
import { rateLimited } from "../core/rate_limited.ts";
import { compileTopic } from "../core/flows/topic.ts";
import { checkJsonMessage } from "../core/flows/json.ts";
import type { Acker } from "./rabbitmq_acks.ts";
import {
  countRejection,
  countRouted,
  type SourceContext,
  type SourceStats,
} from "./source.ts";

/** How long a message waits before it is requeued while the log is away. */
const REQUEUE_DELAY_MS = 1_000;

/** How often the same kind of rejection is logged, at most. */
const REJECTION_LOG_INTERVAL_MS = 10_000;

// fatal: a body that is not UTF-8 is refused rather than read with U+FFFD.
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Handles one delivery; `stop()` settles what waits and flushes the logs. */
export interface DeliveryHandler {
  (message: AMQPMessage): void;
  /**
   * Before the channel closes: messages waiting out their requeue pause are
   * requeued now (no timer outlives the source), and rejection counts of
   * open log windows are logged.
   */
  stop(): void;
}

/** Handles deliveries of one source; never throws, never stops consuming. */
export function createDeliveryHandler(
  name: string,
  autoAck: boolean,
  context: SourceContext,
  counters: SourceStats,
  acker: Acker,
): DeliveryHandler {
  const { log } = context;
  const logRejection = rateLimited(REJECTION_LOG_INTERVAL_MS);
  const requeue = requeueLater(acker);
  // A flow without an operation reads every message.
  const matchers = context.flows.map(({ operation, flow }) => ({
    matches: compileTopic(operation ?? "#"),
    flow,
  }));
  const flowsFor = (routingKey: string): Flow[] =>
    matchers.filter((m) => m.matches(routingKey)).map((m) => m.flow);

  const reject = (
    message: AMQPMessage,
    code: string,
    reason: string,
  ) => {
    countRejection(counters, code);
    // With auto_ack the broker already forgot the message: nothing to nack.
    if (!autoAck) acker.nack(message);
    logRejection(
      code,
      (suppressed) =>
        suppressed === 0
          ? log.warn("rejected message", {
            connector: name,
            code,
            reason,
            routing_key: message.routingKey,
          })
          // The window's end: how many more were rejected without a line.
          : log.warn("rejected messages", {
            connector: name,
            code,
            count: suppressed,
            last_reason: reason,
          }),
    );
  };

  const settle = (message: AMQPMessage, outcome: Outcome) => {
    if (!outcome.ok) return reject(message, outcome.code, outcome.reason);
    countRouted(counters, outcome.flows);
    // If the connection drops before this ack reaches the broker, the
    // message is redelivered: at least once, never lost. Acks go out in
    // batches (rabbitmq_acks.ts): fewer frames per message.
    if (!autoAck) acker.ack(message);
  };
  const fail = (message: AMQPMessage, error: unknown) => {
    if (error instanceof UnavailableError && !autoAck) {
      // A target is away (the cluster's stream, a publisher's broker): the
      // message stays in its queue and comes back a little later (a pause,
      // so it does not spin).
      countRejection(counters, "unavailable");
      requeue.later(message);
      return;
    }
    reportBug(log, name, error);
    reject(message, "error", errorMessage(error));
  };

  const handle = (message: AMQPMessage) => {
    counters.received++;
    if (!autoAck) acker.received(message);
    try {
      const body = parseBody(message.body);
      if ("code" in body) return reject(message, body.code, body.reason);
      const outcome = sendThrough(
        flowsFor(message.routingKey),
        {
          input: body.input,
          meta: metaOf(message),
        },
        message.routingKey,
        inputId(name, message),
      );
      if (outcome instanceof Promise) {
        outcome.then((o) => settle(message, o), (e) => fail(message, e));
      } else settle(message, outcome);
    } catch (error) {
      fail(message, error);
    }
  };
  const stop = () => {
    requeue.now();
    logRejection.flush();
  };
  return Object.assign(handle, { stop });
}

/**
 * Requeues after a pause, so a message whose target is away does not spin;
 * `now()` (at stop) requeues every waiting one at once.
 */
function requeueLater(acker: Acker) {
  const waiting = new Map<ReturnType<typeof setTimeout>, AMQPMessage>();
  return {
    later(message: AMQPMessage) {
      // Settled (and later acks let through) only once the nack is sent.
      const timer = setTimeout(() => {
        waiting.delete(timer);
        acker.nack(message, true);
      }, REQUEUE_DELAY_MS);
      waiting.set(timer, message);
    },
    now() {
      for (const [timer, message] of waiting) {
        clearTimeout(timer);
        acker.nack(message, true);
      }
      waiting.clear();
    },
  };
}

/**
 * The input's identity for a cluster's dedupe window: the AMQP message-id,
 * when the publisher set one, under this source's name.
 */
function inputId(name: string, message: AMQPMessage): string | undefined {
  const id = message.properties.messageId;
  return id === undefined || id === "" ? undefined : `${name}/${id}`;
}

/** The JSON object in `body`, or why there is none. */
function parseBody(
  body: Uint8Array | null,
):
  | { readonly input: Record<string, unknown> }
  | { readonly code: string; readonly reason: string } {
  if (body === null || body.byteLength === 0) {
    return { code: "not_json", reason: "body is empty" };
  }
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(body));
  } catch {
    return { code: "not_json", reason: "body is not UTF-8 JSON" };
  }
  const checked = checkJsonMessage(value);
  return checked.ok ? { input: checked.value } : checked;
}

/** `meta.*` of a delivery, in the snake_case of the config. */
function metaOf(message: AMQPMessage): Record<string, unknown> {
  const p: AMQPProperties = message.properties;
  return {
    routing_key: message.routingKey,
    exchange: message.exchange,
    redelivered: message.redelivered,
    headers: p.headers ?? {},
    properties: {
      content_type: p.contentType,
      content_encoding: p.contentEncoding,
      delivery_mode: p.deliveryMode,
      priority: p.priority,
      correlation_id: p.correlationId,
      reply_to: p.replyTo,
      expiration: p.expiration,
      message_id: p.messageId,
      // Seconds since the epoch, as AMQP carries it.
      timestamp: p.timestamp === undefined
        ? undefined
        : Math.floor(p.timestamp.getTime() / 1000),
      type: p.type,
      user_id: p.userId,
      app_id: p.appId,
    },
  };
}

function reportBug(log: Logger, name: string, error: unknown): void {
  log.error("delivery failed", {
    connector: name,
    reason: errorMessage(error),
  });
}
