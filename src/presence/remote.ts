/**
 * The other instances' contributions, summed: per room the connections and,
 * per user id, how many instances see that user in it; per user the
 * connections and the rooms. A new snapshot from an instance replaces its
 * previous one (cost: the size of the two snapshots); an instance not heard
 * from within `maxAgeMs` is forgotten, so a killed one stops counting.
 *
 * @module
 */

import { bump } from "./local.ts";
import type { Snapshot } from "./snapshot.ts";

/** A room as the other instances hold it. */
export interface RemoteRoom {
  connections: number;
  /** User id -> instances that hold it in this room. */
  readonly users: Map<string, number>;
}

/** A user as the other instances hold it. */
export interface RemoteUser {
  connections: number;
  /** Room -> instances that hold the user in it. */
  readonly rooms: Map<string, number>;
}

/** The sum of every other live instance's contribution. */
export interface RemotePresence {
  readonly rooms: ReadonlyMap<string, Readonly<RemoteRoom>>;
  readonly users: ReadonlyMap<string, Readonly<RemoteUser>>;
  /** The instances heard from within the expiry, and whether each is warm. */
  instances(): { readonly id: string; readonly warm: boolean }[];
  /** Takes `snapshot`; returns the rooms it emptied or filled. */
  apply(snapshot: Snapshot, now: number): string[];
  /** Forgets instances silent for `maxAgeMs`; the rooms that changed. */
  expire(now: number, maxAgeMs: number): string[];
}

/** Creates an empty sum. */
export function createRemotePresence(): RemotePresence {
  const rooms = new Map<string, RemoteRoom>();
  const users = new Map<string, RemoteUser>();
  const held = new Map<string, { snapshot: Snapshot; heardAt: number }>();

  const add = (s: Snapshot, sign: 1 | -1) => {
    for (const [room, connections, ids] of s.rooms) {
      let entry = rooms.get(room);
      if (entry === undefined) {
        rooms.set(room, entry = { connections: 0, users: new Map() });
      }
      entry.connections += sign * connections;
      for (const id of ids) {
        bump(entry.users, id, sign);
        let user = users.get(id);
        if (user === undefined) {
          users.set(id, user = { connections: 0, rooms: new Map() });
        }
        bump(user.rooms, room, sign);
      }
      if (entry.connections <= 0) rooms.delete(room);
    }
    for (const [id, connections] of s.users) {
      let user = users.get(id);
      if (user === undefined) {
        users.set(id, user = { connections: 0, rooms: new Map() });
      }
      user.connections += sign * connections;
      if (user.connections <= 0 && user.rooms.size === 0) users.delete(id);
    }
  };

  /** Replaces `before` by `after`; the rooms whose occupancy flipped. */
  const replace = (
    before: Snapshot | undefined,
    after: Snapshot | undefined,
  ) => {
    const touched = new Map<string, boolean>();
    for (const s of [before, after]) {
      for (const [room] of s?.rooms ?? []) touched.set(room, rooms.has(room));
    }
    if (before !== undefined) add(before, -1);
    if (after !== undefined) add(after, 1);
    return [...touched].filter(([room, was]) => rooms.has(room) !== was)
      .map(([room]) => room);
  };

  return {
    rooms,
    users,
    instances: () =>
      [...held].map(([id, h]) => ({ id, warm: h.snapshot.warm === true })),
    apply(snapshot, now) {
      const before = held.get(snapshot.instance)?.snapshot;
      if (snapshot.bye) {
        held.delete(snapshot.instance);
        return replace(before, undefined);
      }
      held.set(snapshot.instance, { snapshot, heardAt: now });
      return replace(before, snapshot);
    },
    expire(now, maxAgeMs) {
      const changed: string[] = [];
      for (const [instance, { snapshot, heardAt }] of held) {
        if (now - heardAt < maxAgeMs) continue;
        held.delete(instance);
        changed.push(...replace(snapshot, undefined));
      }
      return changed;
    },
  };
}
