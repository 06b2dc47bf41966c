/**
 * The connection loop of a RabbitMQ source: connect, consume until the
 * connection or consumer is lost, then retry after a backoff that doubles,
 * until stopped (or max_reconnects failed attempts in a row).
 *
 * @module
 */

import type { AMQPClient, AMQPMessage } from "@cloudamqp/amqp-client";
import type { Logger } from "../core/log.ts";
import { createBackoff } from "./backoff.ts";
import type { Pause } from "./pause.ts";
import { reportFailure } from "./rabbitmq_failure.ts";
import {
  connectSession,
  describeSession,
  type Session,
} from "./rabbitmq_session.ts";
import type { RabbitSettings } from "./rabbitmq_settings.ts";
import { watchTopology } from "./rabbitmq_watch.ts";

/** What the loop and the source share. */
export interface LoopState {
  stopped: boolean;
  /** The consuming session, if any. */
  current: Session | undefined;
  /** Good connections so far (reconnects = connections - 1). */
  connections: number;
  /** The client while it connects, so a stop can cut it. */
  connecting: AMQPClient | undefined;
  readonly pause: Pause;
}

/** `started`: the first attempt is over; `consumed`: a consumer runs. */
export interface LoopHooks {
  readonly started: () => void;
  readonly consumed: () => void;
}

/** Runs until `state.stopped` or the source gives up. */
export async function keepConnected(
  name: string,
  state: LoopState,
  settings: RabbitSettings,
  onMessage: (message: AMQPMessage) => void,
  log: Logger,
  hooks: LoopHooks,
): Promise<void> {
  const where = { connector: name, url: settings.safeUrl };
  let failures = 0;
  // Counts every retry since the last good connection, so the delay
  // doubles from the second retry on (failures alone restarts at 0).
  const backoff = createBackoff(settings.reconnectDelayMs);
  while (!state.stopped) {
    let reason: string;
    try {
      const session = await connect(state, settings, onMessage);
      state.current = session;
      state.connections++;
      failures = 0;
      backoff.reset();
      log.info("connected", {
        ...where,
        ...describeSession(settings, session),
      });
      hooks.started();
      const unwatch = watchTopology(
        session.client,
        settings,
        session.queue,
        log,
        where,
      );
      hooks.consumed();
      reason = await session.lost;
      unwatch();
      state.current = undefined;
      if (state.stopped) return;
      // A channel error leaves the connection open; start clean.
      if (!session.client.closed) session.client.close().catch(() => {});
      log.warn("disconnected", { ...where, reason });
    } catch (error) {
      hooks.started();
      if (state.stopped) return;
      failures++;
      reason = reportFailure(log, where, settings.tls, error);
      if (settings.maxReconnects > 0 && failures > settings.maxReconnects) {
        log.error("cannot connect; giving up (max_reconnects reached)", {
          ...where,
          attempts: failures,
          reason,
        });
        return;
      }
    }
    const delay = backoff.next();
    log.warn("retrying", {
      ...where,
      in: `${delay}ms`,
      attempt: failures + 1,
      reason,
    });
    await state.pause.sleep(delay);
  }
}

async function connect(
  state: LoopState,
  settings: RabbitSettings,
  onMessage: (message: AMQPMessage) => void,
): Promise<Session> {
  const session = await connectSession(settings, onMessage, (client) => {
    state.connecting = client;
  });
  if (state.stopped) {
    await session.client.close().catch(() => {});
    throw new Error("stopping");
  }
  return session;
}
