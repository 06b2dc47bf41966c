/**
 * Start-time checks of a RabbitMQ connector's TLS, queue and exchange
 * options: what contradicts itself is a problem, what the broker would
 * silently ignore is a warning.
 *
 * @module
 */

import type { MqConnector } from "./schema.ts";

/** Reports a problem at a key path. */
type Report = (path: string, message: string) => void;

/** True when hypha dials the broker over TLS. */
export function usesTls(c: MqConnector): boolean {
  return c.tls?.enabled === true || (c.url?.startsWith("amqps:") ?? false);
}

/** Checks connector `name`'s broker options. */
export function checkBroker(
  name: string,
  c: MqConnector,
  problem: Report,
  warn: (warning: string) => void,
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
  if (
    c.exchange !== undefined && !c.exchange.create_if_missing &&
    Object.keys(c.exchange.args).length > 0
  ) {
    warn(
      `${at}.exchange.args: not applied with create_if_missing = false (the exchange is only checked, never declared)`,
    );
  }
}
