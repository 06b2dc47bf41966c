/**
 * Presence of one SSE connector: watches its connections open and close,
 * keeps the local index, the other instances' contributions (in a cluster),
 * the announced occupancy, and tells the lifecycle source and (opt-in) the
 * room's subscribers. Nothing here runs per delivered event.
 *
 * @module
 */

import type { ConnectionWatcher } from "../core/hub/connection.ts";
import type { Hub } from "../core/hub/hub.ts";
import type { Logger } from "../core/log.ts";
import { createLocalPresence } from "./local.ts";
import { createOccupancy } from "./occupancy.ts";
import {
  createSnapshotExchange,
  type SnapshotChannel,
  type SnapshotExchange,
} from "./snapshot_exchange.ts";
import { createView, type PresenceView } from "./view.ts";
import { createPresenceWatcher, type LifecycleSink } from "./watcher.ts";

export type { LifecycleSink, SnapshotChannel };

/** A connector's presence settings, validated and in ms. */
export interface PresenceOptions {
  readonly connector: string;
  /** This process, as lifecycle events and snapshots name it. */
  readonly instance: string;
  readonly vacateAfterMs: number;
  /** `max_members` when `members = true`; undefined: no member lists. */
  readonly maxMembers: number | undefined;
  readonly joinLeave: boolean;
  /** Present in a cluster. */
  readonly channel?: SnapshotChannel;
  readonly log: Logger;
  readonly now?: () => number;
}

/** What the app, the API and the hub use. */
export interface Presence {
  readonly watcher: ConnectionWatcher;
  readonly view: PresenceView;
  readonly maxMembers: number | undefined;
  /** The hub (for join/leave) and the lifecycle source, once they exist. */
  attach(hub: Hub, lifecycle: LifecycleSink | undefined): void;
  /** Totals for stats and metrics: no label per room or user. */
  totals(): Record<string, number>;
  start(): void;
  stop(): Promise<void>;
}

/** Creates the presence of one connector; `start` begins the cluster part. */
export function createPresence(options: PresenceOptions): Presence {
  const now = options.now ?? Date.now;
  const { instance, channel } = options;
  let hub: Hub | undefined;
  let lifecycle: LifecycleSink | undefined;
  let closing = false;

  const local = createLocalPresence({
    room: (room) => {
      occupancy.changed(room);
      exchange?.soon();
    },
    member: (room, userId, joined) => {
      if (!options.joinLeave || hub === undefined || closing) return;
      tell(hub, room, joined ? "join" : "leave", userId);
    },
  });
  const exchange: SnapshotExchange | undefined = channel &&
    createSnapshotExchange({
      instance,
      channel,
      local,
      changed: (room) => occupancy.changed(room),
      now,
    });
  const view = createView(local, exchange?.remote);
  const time = () => new Date(now()).toISOString();
  const roomEvent = (op: "room_occupied" | "room_vacated") => (room: string) =>
    lifecycle?.emit(op, {
      ...view.room(room),
      instance,
      time: time(),
    });
  const occupancy = createOccupancy({
    vacateAfterMs: options.vacateAfterMs,
    connections: view.connections,
    owns: (room) => exchange === undefined || exchange.owns(room),
    occupied: roomEvent("room_occupied"),
    vacated: roomEvent("room_vacated"),
    now,
  });

  return {
    watcher: createPresenceWatcher({
      instance,
      local,
      lifecycle: () => lifecycle,
      time,
      shutdown: () => closing = true,
    }),
    view,
    maxMembers: options.maxMembers,
    attach(h, l) {
      hub = h;
      lifecycle = l;
    },
    totals: () => ({
      connections: local.connections,
      rooms: local.rooms.size,
      users: local.users.size,
      occupied: occupancy.size,
      instances: 1 + (exchange?.remote.instances().length ?? 0),
      warm: exchange === undefined || exchange.warm ? 1 : 0,
    }),
    start() {
      exchange?.start();
    },
    async stop() {
      occupancy.stop();
      await exchange?.stop();
    },
  };
}

/** A join or leave event to the room's subscribers. */
function tell(hub: Hub, room: string, event: string, userId: string): void {
  const data = JSON.stringify({ user_id: userId });
  try {
    const appended = hub.publish({ kind: "room", names: [room] }, event, data);
    if (appended instanceof Promise) appended.catch(() => {});
  } catch { /* a log that is away: the room misses this join or leave */ }
}
