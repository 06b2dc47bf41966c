/**
 * A cluster's presence over RabbitMQ: every instance publishes its own
 * contribution (a snapshot) to one fanout exchange and reads everyone's
 * from an exclusive, auto-delete queue of its own. Messages carry a TTL, so
 * a queue that fell behind never hands out stale counts; a snapshot not
 * delivered is simply replaced by the next. Dial and reconnect are the one
 * RabbitMQ layer's (src/rabbitmq/).
 *
 * @module
 */

import type { AMQPChannel, AMQPClient } from "@cloudamqp/amqp-client";
import { errorMessage } from "../core/errors.ts";
import type { Fields, Logger } from "../core/log.ts";
import { dial, type DialOptions } from "../rabbitmq/dial.ts";
import { createPause } from "../rabbitmq/pause.ts";
import { reconnectLoop } from "../rabbitmq/reconnect.ts";

/** Where the snapshots travel and who hears them. */
export interface PresenceLinkOptions extends DialOptions {
  /** The fanout exchange (declared non-durable, auto-delete). */
  readonly exchange: string;
  /** Per-message TTL, ms: older snapshots are dropped by the broker. */
  readonly ttlMs: number;
  readonly reconnectDelayMs: number;
  readonly log: Logger;
  readonly where: Fields;
}

/** A running link. */
export interface PresenceLink {
  /** True while connected: a publish has somewhere to go. */
  readonly connected: boolean;
  /**
   * Resolves once written (never rejects): a lost snapshot is replaced by
   * the next one.
   */
  publish(body: string): Promise<void>;
  /** `received` hears every message (this instance's own included). */
  start(received: (body: string) => void): void;
  stop(): Promise<void>;
}

/** Creates the link; nothing happens before `start`. */
export function createPresenceLink(
  options: PresenceLinkOptions,
): PresenceLink {
  const { log, where } = options;
  let stopped = false;
  let client: AMQPClient | undefined;
  let channel: AMQPChannel | undefined;
  let running: Promise<void> | undefined;
  let endSession: ((reason: string) => void) | undefined;
  const pause = createPause();
  const expiration = String(options.ttlMs);
  let received: (body: string) => void = () => {};

  const open = async () => {
    let signal!: (reason: string) => void;
    const lost = new Promise<string>((resolve) => signal = resolve);
    endSession = signal;
    const c = await dial(options, signal, (t) => client = t ?? client);
    client = c;
    try {
      const ch = await c.channel();
      await ch.exchangeDeclare(options.exchange, "fanout", {
        durable: false,
        autoDelete: true,
      });
      const { name } = await ch.queueDeclare("", {
        exclusive: true,
        autoDelete: true,
      });
      await ch.queueBind(name, options.exchange, "");
      await ch.basicConsume(name, { noAck: true }, (message) => {
        received(message.bodyToString() ?? "");
      });
      channel = ch;
      return { lost };
    } catch (error) {
      c.socket?.destroy();
      throw error;
    }
  };

  const run = () =>
    reconnectLoop({
      open,
      up: () => log.info("presence link attached", where),
      down(_, reason) {
        channel = undefined;
        client?.socket?.destroy();
        if (!stopped) log.warn("presence link lost", { ...where, reason });
      },
      failed: (error) => stopped ? undefined : errorMessage(error),
      retrying: (delay, _, reason) =>
        log.warn("presence link retrying", {
          ...where,
          in: `${delay}ms`,
          reason,
        }),
    }, {
      firstDelayMs: options.reconnectDelayMs,
      pause,
      stopped: () => stopped,
    });

  return {
    get connected() {
      return channel !== undefined && !channel.closed;
    },
    async publish(body) {
      await channel?.basicPublish(options.exchange, "", body, {
        expiration,
        contentType: "application/json",
      }).catch(() => {/* the next snapshot replaces it */});
    },
    start(hear) {
      received = hear;
      running = run();
    },
    async stop() {
      stopped = true;
      pause.wake();
      const c = client;
      channel = undefined;
      if (c !== undefined && !c.closed) await c.close().catch(() => {});
      c?.socket?.destroy();
      endSession?.("stopping");
      await running;
    },
  };
}
