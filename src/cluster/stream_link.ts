/**
 * The connection of a cluster's event log to the broker: connect, let the
 * log attach (declare, epoch, tail), and on any loss start over after a
 * backoff, for as long as the process runs. Only a fatal error (the stream
 * exists as another kind of queue) stops it; at start that is an error the
 * app reports, later a logged one.
 *
 * @module
 */

import type { AMQPClient } from "@cloudamqp/amqp-client";
import { errorMessage } from "../core/errors.ts";
import type { Fields, Logger } from "../core/log.ts";
import { dial, type DialOptions } from "../rabbitmq/dial.ts";
import { createPause } from "../rabbitmq/pause.ts";
import { reconnectLoop } from "../rabbitmq/reconnect.ts";

/** An error retrying cannot fix; it stops the link. */
export class FatalLinkError extends Error {
  override name = "FatalLinkError";
}

/** How to reach the broker and what to do once connected. */
export interface LinkOptions extends DialOptions {
  readonly reconnectDelayMs: number;
  readonly log: Logger;
  /** Fields of every log line (connector, stream, redacted url). */
  readonly where: Fields;
  /**
   * Sets up fresh connections; resolves once the log is attached. `lost`
   * ends the session from inside (e.g. the broker cancelled the tail).
   */
  attach(
    consumer: AMQPClient,
    publisher: AMQPClient,
    lost: (reason: string) => void,
  ): Promise<void>;
  /** The connection is gone (called once per attached connection). */
  detached(reason: string): void;
}

/** A running link. */
export interface Link {
  /**
   * Resolves after the first attach, or after the first failed attempt (the
   * link keeps retrying); rejects on a fatal error.
   */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Creates the link; nothing happens before `start`. */
export function createLink(options: LinkOptions): Link {
  const { log, where } = options;
  let stopped = false;
  const clients: AMQPClient[] = [];
  const pause = createPause();
  /** Ends the current session's wait (a clean close may not report it). */
  let endSession: ((reason: string) => void) | undefined;
  let running: Promise<void> | undefined;

  const closeAll = async () => {
    const open = clients.splice(0);
    await Promise.all(open.map(async (c) => {
      if (!c.closed) await c.close().catch(() => {});
      c.socket?.destroy();
    }));
  };

  const open = async (): Promise<{ lost: Promise<string> }> => {
    let signal!: (reason: string) => void;
    const lost = new Promise<string>((resolve) => signal = resolve);
    endSession = signal;
    const track = (c: AMQPClient | undefined) => c && clients.push(c);
    try {
      // Two connections: publishes and stream deliveries sharing one socket
      // add ~40 ms to every append (measured on RabbitMQ 3.10).
      const consumer = await dial(options, signal, track);
      const publisher = await dial(
        { ...options, connectionName: `${options.connectionName}.publish` },
        signal,
        track,
      );
      await options.attach(consumer, publisher, signal);
      if (stopped) throw new Error("stopping");
      return { lost };
    } catch (error) {
      await closeAll();
      throw error;
    }
  };

  const run = (started: (error?: Error) => void) =>
    reconnectLoop({
      open,
      up() {
        log.info("cluster log attached", where);
        started();
      },
      down(_, reason) {
        options.detached(reason);
        if (stopped) return;
        closeAll();
        log.warn("cluster log detached", { ...where, reason });
      },
      failed(error) {
        if (stopped) return void started();
        if (error instanceof FatalLinkError) {
          log.error("cluster log stopped", {
            ...where,
            reason: errorMessage(error),
          });
          return void started(error);
        }
        started();
        return errorMessage(error);
      },
      retrying(delay, _, reason) {
        log.warn("cluster log retrying", {
          ...where,
          in: `${delay}ms`,
          reason,
        });
      },
    }, {
      firstDelayMs: options.reconnectDelayMs,
      pause,
      stopped: () => stopped,
    });

  return {
    start() {
      return new Promise<void>((resolve, reject) => {
        let settled = false;
        running = run((error) => {
          if (settled) return;
          settled = true;
          if (error === undefined) resolve();
          else reject(error);
        });
      });
    },
    async stop() {
      stopped = true;
      pause.wake();
      await closeAll();
      endSession?.("stopping");
      await running;
    },
  };
}
