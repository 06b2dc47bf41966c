/**
 * The mq publisher's connection, kept by the reconnect loop every broker
 * user runs: which failures are ERRORs, when to give up, and a stop that
 * cuts a connection still being made.
 *
 * @module
 */

import type { AMQPClient } from "@cloudamqp/amqp-client";
import { errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { Pause } from "./pause.ts";
import {
  MissingExchangeError,
  openPublishChannel,
  type PublishChannel,
  type PublishSettings,
} from "./publish_channel.ts";
import { reconnectLoop } from "./reconnect.ts";
import { tlsAdvice } from "./tls.ts";

/** What the connection, the publish path and the stats share. */
export interface PublisherState {
  stopped: boolean;
  /** The open confirm channel, if any. */
  current: PublishChannel | undefined;
  /** The client while it connects, so a stop can cut it. */
  connecting: AMQPClient | undefined;
  /** Good connections so far (reconnects = connections - 1). */
  connections: number;
  readonly pause: Pause;
}

/** What every log line of a publisher names. */
export interface PublisherWhere {
  readonly connector: string;
  readonly url: string;
  readonly exchange: string;
}

/** Runs until stopped or given up; `started`: the first attempt is over. */
export function keepPublisherConnected(
  state: PublisherState,
  settings: PublishSettings,
  where: PublisherWhere,
  log: Logger,
  started: () => void,
): Promise<void> {
  return reconnectLoop<PublishChannel>({
    open: async () => {
      const channel = await openPublishChannel(settings, (client) => {
        state.connecting = client;
      });
      if (state.stopped) {
        await channel.client.close().catch(() => {});
        throw new Error("stopping");
      }
      return channel;
    },
    up(channel) {
      state.current = channel;
      state.connections++;
      log.info("publisher connected", {
        ...where,
        connection_name: settings.connectionName,
      });
      started();
    },
    down(channel, reason) {
      state.current = undefined;
      if (state.stopped) return;
      if (!channel.client.closed) channel.client.close().catch(() => {});
      log.warn("publisher disconnected", { ...where, reason });
    },
    failed(error, failures) {
      started();
      if (state.stopped) return undefined;
      const reason = errorMessage(error);
      const advice = settings.tls ? tlsAdvice(reason) : undefined;
      if (error instanceof MissingExchangeError || advice !== undefined) {
        log.error("publisher cannot connect", { ...where, reason, advice });
      }
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
      log.warn("publisher retrying", {
        ...where,
        in: `${delay}ms`,
        attempt,
        reason,
      });
    },
  }, {
    firstDelayMs: settings.reconnectDelayMs,
    pause: state.pause,
    stopped: () => state.stopped,
  });
}

/** Stops the loop: wakes its backoff, cuts a dial, closes the channel. */
export async function closePublisherSession(
  state: PublisherState,
): Promise<void> {
  state.stopped = true;
  state.pause.wake();
  state.connecting?.socket?.destroy(new Error("stopping"));
  const channel = state.current;
  state.current = undefined;
  if (channel !== undefined && !channel.client.closed) {
    await channel.client.close("hypha stopping").catch(() => {});
  }
  channel?.end("stopping");
}
