/**
 * The connection loop of a RabbitMQ source: connect, consume until the
 * connection or consumer is lost, then retry after a backoff that doubles,
 * until stopped (or max_reconnects failed attempts in a row).
 *
 * @module
 */

import type { AMQPClient, AMQPMessage } from "@cloudamqp/amqp-client";
import type { Logger } from "../core/log.ts";
import type { Pause } from "../rabbitmq/pause.ts";
import { reportFailure } from "./rabbitmq_failure.ts";
import {
  connectSession,
  describeSession,
  type Session,
  type SourceSettings,
} from "./rabbitmq_session.ts";
import { reconnectLoop } from "../rabbitmq/reconnect.ts";
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

/** `started`: the first attempt is over. */
export interface LoopHooks {
  readonly started: () => void;
}

/** Runs until `state.stopped` or the source gives up. */
export function keepConnected(
  name: string,
  state: LoopState,
  settings: SourceSettings,
  onMessage: (message: AMQPMessage) => void,
  log: Logger,
  hooks: LoopHooks,
): Promise<void> {
  const where = { connector: name, url: settings.safeUrl };
  let unwatch = () => {};
  return reconnectLoop<Session>({
    open: () => connect(state, settings, onMessage),
    up(session) {
      state.current = session;
      state.connections++;
      log.info("connected", {
        ...where,
        ...describeSession(settings, session),
      });
      hooks.started();
      unwatch = watchTopology(
        session.client,
        settings,
        session.queue,
        log,
        where,
      );
    },
    down(session, reason) {
      unwatch();
      state.current = undefined;
      if (state.stopped) return;
      // A channel error leaves the connection open; start clean.
      if (!session.client.closed) session.client.close().catch(() => {});
      log.warn("disconnected", { ...where, reason });
    },
    failed(error, failures) {
      hooks.started();
      if (state.stopped) return undefined;
      const reason = reportFailure(log, where, settings.tls, error);
      if (settings.maxReconnects > 0 && failures > settings.maxReconnects) {
        log.error("cannot connect; giving up (max_reconnects reached)", {
          ...where,
          attempts: failures,
          reason,
        });
        return undefined;
      }
      return reason;
    },
    retrying(delay, attempt, reason) {
      log.warn("retrying", { ...where, in: `${delay}ms`, attempt, reason });
    },
  }, {
    firstDelayMs: settings.reconnectDelayMs,
    pause: state.pause,
    stopped: () => state.stopped,
  });
}

async function connect(
  state: LoopState,
  settings: SourceSettings,
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
