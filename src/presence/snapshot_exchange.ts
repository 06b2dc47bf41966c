/**
 * The cluster part of presence: this instance's snapshot goes out every
 * second and soon after a change (a burst coalesced into one), the others'
 * come in and replace their previous contribution, a silent one expires.
 * An instance is warm, and owns rooms, only after hearing the others for a
 * while: before that it does not know which rooms were announced.
 *
 * @module
 */

import { clearLongTimeout, setLongInterval } from "../core/long_timer.ts";
import type { LocalPresence } from "./local.ts";
import { ownerOf } from "./occupancy.ts";
import { createRemotePresence, type RemotePresence } from "./remote.ts";
import { parseSnapshot, takeSnapshot } from "./snapshot.ts";

/** How snapshots travel between instances (src/cluster/presence_link.ts). */
export interface SnapshotChannel {
  publish(body: string): Promise<void> | void;
  /** Set by the snapshot exchange: a body from the RabbitMQ exchange. */
  start(received: (body: string) => void): void;
  stop(): Promise<void>;
}

/** What the exchange reads and tells. */
export interface ExchangeOptions {
  /** This process, as snapshots name it. */
  readonly instance: string;
  readonly channel: SnapshotChannel;
  readonly local: LocalPresence;
  /** A room's cluster-wide count may have changed. */
  changed(room: string): void;
  readonly now: () => number;
}

/** One instance's side of the exchange. */
export interface SnapshotExchange {
  /** The other instances' contributions. */
  readonly remote: RemotePresence;
  /** True once the others were heard long enough (see WARMUP_MS). */
  readonly warm: boolean;
  /** True when this instance speaks for `room` now. */
  owns(room: string): boolean;
  /** The local counts changed: announce them soon. */
  soon(): void;
  start(): void;
  /** Says goodbye (others forget this instance now) and stops the channel. */
  stop(): Promise<void>;
}

/** Snapshot every second; an instance silent for 8 s is forgotten. */
export const SNAPSHOT_MS = 1_000;
export const EXPIRE_MS = 8_000;
/** A change is announced this soon (coalesced), well within 2 s. */
const CHANGE_DELAY_MS = 200;
/** An instance owns rooms only after hearing the others this long. */
const WARMUP_MS = 2_500;

/** Creates the exchange; nothing is sent or heard before `start`. */
export function createSnapshotExchange(
  options: ExchangeOptions,
): SnapshotExchange {
  const { instance, channel, local, now } = options;
  const remote = createRemotePresence();
  const startedAt = now();
  let warm = false;
  let sentVersion = -1;
  let changeTimer: ReturnType<typeof setTimeout> | undefined;
  let tick: ReturnType<typeof setLongInterval> | undefined;
  const publish = (bye = false) => {
    sentVersion = local.version;
    const snapshot = bye
      ? { instance, rooms: [], users: [], bye: true }
      : takeSnapshot(instance, local, warm);
    return channel.publish(JSON.stringify(snapshot));
  };
  const received = (body: string) => {
    const snapshot = parseSnapshot(body);
    if (snapshot === undefined || snapshot.instance === instance) return;
    for (const room of remote.apply(snapshot, now())) options.changed(room);
  };

  return {
    remote,
    get warm() {
      return warm;
    },
    owns(room) {
      if (!warm) return false;
      const candidates = remote.instances().filter((i) => i.warm)
        .map((i) => i.id);
      return ownerOf(room, [...candidates, instance]) === instance;
    },
    /** Publishes the change soon, coalescing a burst into one snapshot. */
    soon() {
      if (changeTimer !== undefined) return;
      changeTimer = setTimeout(() => {
        changeTimer = undefined;
        if (local.version !== sentVersion) publish();
      }, CHANGE_DELAY_MS);
    },
    start() {
      channel.start(received);
      tick = setLongInterval(() => {
        if (!warm && now() - startedAt >= WARMUP_MS) warm = true;
        for (const room of remote.expire(now(), EXPIRE_MS)) {
          options.changed(room);
        }
        publish();
      }, SNAPSHOT_MS);
    },
    async stop() {
      clearLongTimeout(tick);
      clearTimeout(changeTimer);
      // Others forget this instance now, not after the expiry.
      await publish(true);
      await channel.stop();
    },
  };
}
