/**
 * Presence of one SSE connector: watches its connections open and close,
 * keeps the local index, the other instances' contributions (in a cluster),
 * the announced occupancy, and tells the lifecycle source and (opt-in) the
 * room's subscribers. Nothing here runs per delivered event.
 *
 * @module
 */

import type { ConnectionWatcher } from "../core/connection.ts";
import type { Hub } from "../core/hub.ts";
import { clearLongTimeout, setLongInterval } from "../core/long_timer.ts";
import type { Logger } from "../core/log.ts";
import type { LIFECYCLE_OPERATIONS } from "../config/schema.ts";
import { createLocalPresence } from "./local.ts";
import { createOccupancy, ownerOf } from "./occupancy.ts";
import { createRemotePresence, type RemotePresence } from "./remote.ts";
import { parseSnapshot, takeSnapshot } from "./snapshot.ts";
import { createView, type PresenceView } from "./view.ts";

/** Where lifecycle events go: the SSE connector's source (sources/lifecycle.ts). */
export interface LifecycleSink {
  /** True when some flow reads `operation`: build its input only then. */
  wants(operation: typeof LIFECYCLE_OPERATIONS[number]): boolean;
  emit(
    operation: typeof LIFECYCLE_OPERATIONS[number],
    input: Record<string, unknown>,
  ): void;
}

/** How snapshots travel between instances (src/cluster/presence_link.ts). */
export interface SnapshotChannel {
  publish(body: string): Promise<void> | void;
  /** Set by the tracker: a body from the exchange. */
  start(received: (body: string) => void): void;
  stop(): Promise<void>;
}

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

/** Snapshot every second; an instance silent for 8 s is forgotten. */
export const SNAPSHOT_MS = 1_000;
export const EXPIRE_MS = 8_000;
/** A change is announced this soon (coalesced), well within 2 s. */
const CHANGE_DELAY_MS = 200;
/** An instance owns rooms only after hearing the others this long. */
const WARMUP_MS = 2_500;

/** Creates the presence of one connector; `start` begins the cluster part. */
export function createPresence(options: PresenceOptions): Presence {
  const now = options.now ?? Date.now;
  const { instance, channel } = options;
  let hub: Hub | undefined;
  let lifecycle: LifecycleSink | undefined;
  const startedAt = now();
  let warm = channel === undefined;
  const remote: RemotePresence | undefined = channel && createRemotePresence();

  const local = createLocalPresence({
    room: (room) => {
      occupancy.changed(room);
      soon();
    },
    member: (room, userId, joined) => {
      if (!options.joinLeave || hub === undefined || closing) return;
      tell(hub, room, joined ? "join" : "leave", userId);
    },
  });
  const view = createView(local, remote);
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
    owns: (room) => {
      if (remote === undefined) return true;
      if (!warm) return false;
      const candidates = remote.instances().filter((i) => i.warm)
        .map((i) => i.id);
      return ownerOf(room, [...candidates, instance]) === instance;
    },
    occupied: roomEvent("room_occupied"),
    vacated: roomEvent("room_vacated"),
    now,
  });

  let closing = false;
  let sentVersion = -1;
  let changeTimer: ReturnType<typeof setTimeout> | undefined;
  let tick: ReturnType<typeof setLongInterval> | undefined;
  const publish = (bye = false) => {
    if (channel === undefined) return;
    sentVersion = local.version;
    const snapshot = bye
      ? { instance, rooms: [], users: [], bye: true }
      : takeSnapshot(instance, local, warm);
    return channel.publish(JSON.stringify(snapshot));
  };
  /** Publishes the change soon, coalescing a burst into one snapshot. */
  const soon = () => {
    if (channel === undefined || changeTimer !== undefined) return;
    changeTimer = setTimeout(() => {
      changeTimer = undefined;
      if (local.version !== sentVersion) publish();
    }, CHANGE_DELAY_MS);
  };
  const received = (body: string) => {
    const snapshot = parseSnapshot(body);
    if (snapshot === undefined || snapshot.instance === instance) return;
    for (const room of remote!.apply(snapshot, now())) occupancy.changed(room);
  };

  const watcher: ConnectionWatcher = {
    opened(c) {
      local.add(c);
      if (lifecycle?.wants("connected")) {
        lifecycle.emit("connected", {
          connection_id: `${instance}/${c.id}`,
          user_id: c.userId ?? null,
          rooms: [...c.rooms],
          instance,
          time: time(),
        });
      }
    },
    closed(c, reason) {
      if (reason === "shutdown") closing = true;
      local.remove(c);
      if (lifecycle?.wants("disconnected")) {
        lifecycle.emit("disconnected", {
          connection_id: `${instance}/${c.id}`,
          user_id: c.userId ?? null,
          rooms: [...c.rooms],
          reason: REASONS[reason],
          instance,
          time: time(),
        });
      }
    },
  };

  return {
    watcher,
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
      instances: 1 + (remote?.instances().length ?? 0),
      warm: warm ? 1 : 0,
    }),
    start() {
      if (channel === undefined) return;
      channel.start(received);
      tick = setLongInterval(() => {
        if (!warm && now() - startedAt >= WARMUP_MS) warm = true;
        for (const room of remote!.expire(now(), EXPIRE_MS)) {
          occupancy.changed(room);
        }
        publish();
      }, SNAPSHOT_MS);
    },
    async stop() {
      occupancy.stop();
      clearLongTimeout(tick);
      clearTimeout(changeTimer);
      if (channel === undefined) return;
      // Others forget this instance now, not after the expiry.
      await publish(true);
      await channel.stop();
    },
  };
}

/** The `reason` of a `disconnected` event, per way a connection ends. */
const REASONS = {
  client: "client_left",
  slow: "slow",
  lifetime: "lifetime",
  expired: "token_expired",
  shutdown: "shutdown",
  unavailable: "unavailable",
} as const;

/** A join or leave event to the room's subscribers. */
function tell(hub: Hub, room: string, event: string, userId: string): void {
  const data = JSON.stringify({ user_id: userId });
  try {
    const appended = hub.publish({ kind: "room", names: [room] }, event, data);
    if (appended instanceof Promise) appended.catch(() => {});
  } catch { /* a log that is away: the room misses this join or leave */ }
}
