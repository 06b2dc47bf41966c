/**
 * What a RabbitMQ connector's config means, resolved once at start: the URL
 * to dial (and a redacted one to log), the queue, exchange and bindings to
 * declare on every (re)connect, the dead-letter pair, and consumer options.
 *
 * @module
 */

import type { MqConnector } from "../config/schema.ts";
import type { AMQPTlsOptions } from "@cloudamqp/amqp-client";
import { redactUrl } from "../core/log.ts";
import { usesTls } from "../config/check_broker.ts";

/** AMQP arguments as the config gives them. */
export type AmqpArguments = Readonly<Record<string, string | number | boolean>>;

/** The queue hypha consumes from. An empty name asks the broker for one. */
export interface QueuePlan {
  readonly name: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly exclusive: boolean;
  readonly arguments: AmqpArguments;
  /** Only check that it exists (queue.create_if_missing = false). */
  readonly passive: boolean;
}

/** The exchange the queue is bound to, once per routing key. */
export interface ExchangePlan {
  readonly name: string;
  readonly type: "direct" | "fanout" | "topic" | "headers";
  readonly durable: boolean;
  /**
   * RabbitMQ refuses to declare names under the reserved `amq.` prefix, but
   * those exchanges always exist: they are only checked (passive declare).
   */
  readonly passive: boolean;
  readonly arguments: AmqpArguments;
  readonly bindingArguments: AmqpArguments;
  readonly routingKeys: readonly string[];
}

/** Where rejected messages go when `consumer.dlq.enabled`. */
export interface DeadLetterPlan {
  readonly exchange: string;
  readonly queue: string;
}

/** Everything the source needs to connect, declare and consume. */
export interface RabbitSettings {
  /** The URL with credentials; never log it. */
  readonly url: string;
  /** The URL with its password replaced by `***`. */
  readonly safeUrl: string;
  /** amqps: dial TLS (tls.enabled, or an amqps:// url). */
  readonly tls: boolean;
  /** Client certificate and CA from the tls files, read at start. */
  readonly tlsOptions?: AMQPTlsOptions;
  readonly connectionName: string;
  /** AMQP heartbeat in whole seconds; 0 turns it off. */
  readonly heartbeatSeconds: number;
  readonly reconnectDelayMs: number;
  /** Consecutive failed attempts before giving up; 0 = never give up. */
  readonly maxReconnects: number;
  readonly queue: QueuePlan;
  readonly exchange?: ExchangePlan;
  readonly deadLetter?: DeadLetterPlan;
  readonly prefetch: number;
  readonly autoAck: boolean;
  readonly tag: string;
  /** How often the declared topology is checked; 0 = never. */
  readonly topologyCheckMs: number;
}

/** Resolves connector `name`'s config. The config check has validated it. */
export function resolveRabbitSettings(
  name: string,
  c: MqConnector,
): RabbitSettings {
  const tls = usesTls(c);
  const url = tlsUrl(c.url ?? buildUrl(c, tls), c);
  const queueName = c.queue.name;
  const serverNamed = queueName === "";
  const dlq = c.consumer.dlq;
  const base = serverNamed ? name : queueName;
  const deadLetter = dlq.enabled
    ? {
      exchange: dlq.exchange ?? `${base}.dlx`,
      queue: dlq.queue ?? `${base}.dlq`,
    }
    : undefined;
  const queue: QueuePlan = {
    name: queueName,
    // A server-named queue lives and dies with its connection: it is how
    // each instance of a scale-out gets its own copy of every message.
    durable: serverNamed ? false : c.queue.durable,
    autoDelete: serverNamed ? true : c.queue.auto_delete,
    exclusive: serverNamed ? true : c.queue.exclusive,
    arguments: deadLetter
      ? { ...c.queue.args, "x-dead-letter-exchange": deadLetter.exchange }
      : c.queue.args,
    passive: !c.queue.create_if_missing,
  };
  const exchange = c.exchange === undefined ? undefined : {
    name: c.exchange.name,
    type: c.exchange.type,
    durable: c.exchange.durable,
    passive: c.exchange.name.startsWith("amq.") ||
      !c.exchange.create_if_missing,
    arguments: c.exchange.args,
    bindingArguments: c.exchange.binding_args,
    routingKeys: typeof c.exchange.routing_key === "string"
      ? [c.exchange.routing_key]
      : c.exchange.routing_key,
  };
  return {
    url,
    safeUrl: redactUrl(url),
    tls,
    connectionName: c.connection_name ?? name,
    heartbeatSeconds: Math.ceil(c.heartbeat / 1000),
    reconnectDelayMs: c.reconnect_delay,
    maxReconnects: c.max_reconnects,
    queue,
    exchange,
    deadLetter,
    prefetch: c.consumer.prefetch,
    autoAck: c.consumer.auto_ack,
    tag: c.consumer.tag ?? "",
    topologyCheckMs: c.topology_check,
  };
}

/** amqp://user:pass@host:port/vhost from the separate options. */
function buildUrl(c: MqConnector, tls: boolean): string {
  const host = c.host.includes(":") ? `[${c.host}]` : c.host;
  const port = c.port ?? (tls ? 5671 : 5672);
  return `${tls ? "amqps" : "amqp"}://${encodeURIComponent(c.username)}:${
    encodeURIComponent(c.password)
  }@${host}:${port}/${encodeURIComponent(c.vhost)}`;
}

/**
 * `url` as the client must dial it: amqps: when tls.enabled (whatever the
 * scheme written), with `insecure` (the client's switch for not verifying
 * the broker's certificate) when tls.insecure_skip_verify.
 */
function tlsUrl(url: string, c: MqConnector): string {
  if (c.tls === undefined) return url;
  const u = new URL(c.tls.enabled ? url.replace(/^amqp:/, "amqps:") : url);
  if (c.tls.insecure_skip_verify) u.searchParams.set("insecure", "");
  return u.href;
}
