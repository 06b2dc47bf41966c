/**
 * This instance's presence: per room the connections and the users in it,
 * per user the connections and the rooms. An index beside the registry's:
 * each connect or leave costs O(rooms of that connection), never a scan.
 * Anonymous connections count as connections, not users.
 *
 * @module
 */

import type { Subscription } from "../core/history/audience.ts";

/** What a room holds: connections, and connections per user id. */
export interface RoomEntry {
  connections: number;
  readonly users: Map<string, number>;
}

/** What a user holds: connections, and connections per room. */
export interface UserEntry {
  connections: number;
  readonly rooms: Map<string, number>;
}

/** Told of the transitions the cluster view and join/leave care about. */
export interface LocalChanges {
  /** The room's local connections went from 0 to 1 or from 1 to 0. */
  room(room: string): void;
  /** The user's first connection in the room arrived (true) or its last left. */
  member(room: string, userId: string, joined: boolean): void;
}

/** This instance's contribution to presence. */
export interface LocalPresence {
  readonly rooms: ReadonlyMap<string, Readonly<RoomEntry>>;
  readonly users: ReadonlyMap<string, Readonly<UserEntry>>;
  /** Connections, anonymous ones included. */
  readonly connections: number;
  add(s: Subscription): void;
  remove(s: Subscription): void;
  /** Bumped on every change, so a snapshot is sent only when it differs. */
  readonly version: number;
}

/** Creates an empty index reporting to `changes`. */
export function createLocalPresence(changes: LocalChanges): LocalPresence {
  const rooms = new Map<string, RoomEntry>();
  const users = new Map<string, UserEntry>();
  let connections = 0;
  let version = 0;

  const addRoom = (room: string, userId: string | undefined) => {
    let entry = rooms.get(room);
    if (entry === undefined) rooms.set(room, entry = newRoom());
    if (++entry.connections === 1) changes.room(room);
    if (userId === undefined) return;
    if (bump(entry.users, userId, 1) === 1) changes.member(room, userId, true);
  };

  const removeRoom = (room: string, userId: string | undefined) => {
    const entry = rooms.get(room);
    if (entry === undefined) return;
    if (userId !== undefined && bump(entry.users, userId, -1) === 0) {
      changes.member(room, userId, false);
    }
    if (--entry.connections === 0) {
      rooms.delete(room);
      changes.room(room);
    }
  };

  return {
    rooms,
    users,
    get connections() {
      return connections;
    },
    get version() {
      return version;
    },
    add({ rooms: joined, userId }) {
      connections++;
      version++;
      for (const room of joined) addRoom(room, userId);
      if (userId === undefined) return;
      let user = users.get(userId);
      if (user === undefined) users.set(userId, user = newUser());
      user.connections++;
      for (const room of joined) bump(user.rooms, room, 1);
    },
    remove({ rooms: left, userId }) {
      connections--;
      version++;
      for (const room of left) removeRoom(room, userId);
      if (userId === undefined) return;
      const user = users.get(userId);
      if (user === undefined) return;
      for (const room of left) bump(user.rooms, room, -1);
      if (--user.connections === 0) users.delete(userId);
    },
  };
}

const newRoom = (): RoomEntry => ({ connections: 0, users: new Map() });
const newUser = (): UserEntry => ({ connections: 0, rooms: new Map() });

/** Adds `by` to a count; a count of 0 is removed. Returns the new count. */
export function bump<K>(counts: Map<K, number>, key: K, by: number): number {
  const n = (counts.get(key) ?? 0) + by;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
  return n;
}
