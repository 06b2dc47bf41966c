/**
 * Start-time checks of a RabbitMQ connector's TLS, queue and exchange
 * options: what contradicts itself is a problem, what the broker would
 * silently ignore is a warning.
 *
 * @module
 */

import { isExpression, readsMessage } from "../core/flows/expression.ts";
import type { Findings } from "./findings.ts";
import type { Flow, MqConnector } from "./schema.ts";

/** True when hypha dials the broker over TLS. */
export function usesTls(c: MqConnector): boolean {
  return c.tls?.enabled === true || (c.url?.startsWith("amqps:") ?? false);
}

/** Checks connector `name`'s broker options. */
export function checkBroker(
  name: string,
  c: MqConnector,
  { problem, warn }: Findings,
): void {
  const at = `connector.${name}`;
  const tls = c.tls;
  if (tls !== undefined) {
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      problem(
        `${at}.tls`,
        "a client certificate needs both cert and key (PEM files)",
      );
    }
    const files = [tls.cert, tls.key, tls.ca_cert].some((f) => f !== undefined);
    if (!usesTls(c) && (files || tls.insecure_skip_verify)) {
      problem(
        `${at}.tls.enabled`,
        "TLS options are set but TLS is off; set enabled = true (or use an amqps:// url)",
      );
    }
  }
  if (!c.queue.create_if_missing) {
    if (c.queue.name === "") {
      problem(
        `${at}.queue.create_if_missing`,
        "false needs a queue name: a server-named queue never exists beforehand",
      );
    }
    if (Object.keys(c.queue.args).length > 0) {
      warn(
        `${at}.queue.args: not applied with create_if_missing = false (the queue is only checked, never declared)`,
      );
    }
    if (c.consumer.dlq.enabled) {
      warn(
        `${at}: with queue.create_if_missing = false the queue must already have x-dead-letter-exchange (argument or policy), or rejected messages are dropped`,
      );
    }
  }
  if (c.consumer.dlq.enabled && "x-dead-letter-exchange" in c.queue.args) {
    problem(
      `${at}.queue.args`,
      "x-dead-letter-exchange is set by consumer.dlq; give one of them",
    );
  }
  const publisher = c.publisher;
  if (publisher !== undefined) {
    const exchange = shortStringProblem(publisher.exchange);
    if (exchange !== undefined) {
      problem(`${at}.publisher.exchange`, exchange);
    }
    const key = shortStringProblem(publisher.routing_key);
    if (key !== undefined) problem(`${at}.publisher.routing_key`, key);
  }
  if (
    c.exchange !== undefined && !c.exchange.create_if_missing &&
    Object.keys(c.exchange.args).length > 0
  ) {
    warn(
      `${at}.exchange.args: not applied with create_if_missing = false (the exchange is only checked, never declared)`,
    );
  }
}

/** AMQP carries exchange names and routing keys as short strings. */
const MAX_SHORT_STRING_BYTES = 255;
const utf8 = new TextEncoder();

/**
 * Why `text` cannot be an exchange name or routing key (AMQP holds both in
 * at most 255 bytes), or undefined. The config check and the publisher's
 * check of a routing key read from a message both use it.
 */
export function shortStringProblem(text: string): string | undefined {
  const bytes = utf8.encode(text).byteLength;
  return bytes > MAX_SHORT_STRING_BYTES
    ? `is ${bytes} bytes long; AMQP allows at most ${MAX_SHORT_STRING_BYTES}`
    : undefined;
}

/** A publisher's target is a routing key; SSE's operation and event are not its. */
export function checkPublishTarget(
  at: string,
  flow: Flow,
  { problem }: Findings,
): void {
  const { operation, target, event } = flow.to;
  if (operation !== undefined) {
    problem(
      `${at}.to.operation`,
      `"${operation}" is an operation of the sse connector; a RabbitMQ publisher takes none (the routing key is to.target)`,
    );
  }
  if (event !== undefined) {
    problem(
      `${at}.to.event`,
      "a RabbitMQ publisher sends no SSE event type; remove event",
    );
  }
  if (target === undefined) return;
  if (readsMessage(target)) {
    if (!isExpression(target)) {
      problem(
        `${at}.to.target`,
        `expected an expression like "input.kind" or "meta.routing_key", got ${
          JSON.stringify(target)
        }`,
      );
    }
    return;
  }
  const reason = shortStringProblem(target);
  if (reason !== undefined) problem(`${at}.to.target`, `routing key ${reason}`);
}
