/**
 * The connection of a cluster's event log to the broker: connect, let the
 * log attach (declare, epoch, tail), and on any loss start over after a
 * backoff, for as long as the process runs. Only a fatal error (the stream
 * exists as another kind of queue) stops it; at start that is an error the
 * app reports, later a logged one.
 *
 * @module
 */

import { errorMessage } from "../core/errors.ts";
import { AMQPClient } from "@cloudamqp/amqp-client";
import type { Fields, Logger } from "../core/log.ts";
import { reconnectDelay } from "../sources/backoff.ts";
import { createPause } from "../sources/pause.ts";

/** A TCP connect to a black-holed address would hang far longer than this. */
const CONNECT_TIMEOUT_MS = 10_000;

/** An error retrying cannot fix; it stops the link. */
export class FatalLinkError extends Error {
  override name = "FatalLinkError";
}

/** How to reach the broker and what to do once connected. */
export interface LinkOptions {
  /** The URL with credentials; never logged. */
  readonly url: string;
  readonly connectionName: string;
  readonly heartbeatSeconds: number;
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

  const session = async (): Promise<{ lost: Promise<string> }> => {
    let signal!: (reason: string) => void;
    const lost = new Promise<string>((resolve) => signal = resolve);
    endSession = signal;
    try {
      // Two connections: publishes and stream deliveries sharing one socket
      // add ~40 ms to every append (measured on RabbitMQ 3.10).
      const name = options.connectionName;
      const consumer = await dial(options, name, signal, clients);
      const publisher = await dial(options, `${name}.publish`, signal, clients);
      await options.attach(consumer, publisher, signal);
      if (stopped) throw new Error("stopping");
      // Wrapped: an async function returning a promise would wait for it.
      return { lost };
    } catch (error) {
      await closeAll();
      throw error;
    }
  };

  const run = async (started: (error?: Error) => void) => {
    let failures = 0;
    while (!stopped) {
      let reason: string;
      try {
        const { lost } = await session();
        failures = 0;
        log.info("cluster log attached", where);
        started();
        reason = await lost;
        options.detached(reason);
        if (stopped) return;
        closeAll();
        log.warn("cluster log detached", { ...where, reason });
      } catch (error) {
        if (stopped) return started();
        if (error instanceof FatalLinkError) {
          log.error("cluster log stopped", {
            ...where,
            reason: errorMessage(error),
          });
          return started(error);
        }
        started();
        failures++;
        reason = errorMessage(error);
      }
      const delay = reconnectDelay(
        Math.max(failures, 1),
        options.reconnectDelayMs,
      );
      log.warn("cluster log retrying", { ...where, in: `${delay}ms`, reason });
      await pause.sleep(delay);
    }
  };

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

/** Connects one client (added to `clients`); `lost` hears of its end. */
async function dial(
  options: LinkOptions,
  name: string,
  lost: (reason: string) => void,
  clients: AMQPClient[],
): Promise<AMQPClient> {
  const c = new AMQPClient(options.url, undefined, null);
  clients.push(c);
  c.name = name;
  c.heartbeat = options.heartbeatSeconds;
  c.ondisconnect = (error) =>
    lost(error === undefined ? "connection lost" : errorMessage(error));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      c.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`);
          c.socket?.destroy(error);
          reject(error);
        }, CONNECT_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return c;
}
