/**
 * Presence as the API answers it: this instance's index plus the other
 * instances' contributions (empty outside a cluster). Counting one room or
 * user touches only that room or user; the list of rooms is sorted on
 * demand (an operator's query, not a hot path).
 *
 * @module
 */

import type { LocalPresence } from "./local.ts";
import type { RemotePresence } from "./remote.ts";

/** `GET /presence/rooms/{room}`. */
export interface RoomAnswer {
  readonly room: string;
  readonly connections: number;
  readonly users: number;
  /** With `members = true`: user ids, at most `max_members`. */
  readonly members?: readonly string[];
  /** Present and true when `members` was cut at `max_members`. */
  readonly members_truncated?: boolean;
}

/** `GET /presence/users/{user_id}`. */
export interface UserAnswer {
  readonly user_id: string;
  readonly connections: number;
  readonly rooms: readonly string[];
}

/** One page of `GET /presence/rooms`; `next` is the `after` of the next. */
export interface RoomsPage {
  readonly rooms: readonly RoomAnswer[];
  readonly next: string | null;
}

/** The cluster-wide (or single-instance) presence. */
export interface PresenceView {
  /** Connections in the room, everywhere. */
  connections(room: string): number;
  room(room: string, maxMembers?: number): RoomAnswer;
  user(userId: string): UserAnswer;
  /** Occupied rooms sorted by name, `limit` of them after `after`. */
  list(limit: number, after: string | undefined): RoomsPage;
}

/** Combines `local` and `remote` (the latter absent outside a cluster). */
export function createView(
  local: LocalPresence,
  remote: RemotePresence | undefined,
): PresenceView {
  const userIds = (room: string): Set<string> => {
    const ids = new Set(local.rooms.get(room)?.users.keys() ?? []);
    for (const id of remote?.rooms.get(room)?.users.keys() ?? []) ids.add(id);
    return ids;
  };
  const connections = (room: string) =>
    (local.rooms.get(room)?.connections ?? 0) +
    (remote?.rooms.get(room)?.connections ?? 0);
  const room = (name: string, maxMembers?: number): RoomAnswer => {
    const ids = userIds(name);
    const base = {
      room: name,
      connections: connections(name),
      users: ids.size,
    };
    if (maxMembers === undefined) return base;
    const members = [...ids].slice(0, maxMembers);
    return ids.size > maxMembers
      ? { ...base, members, members_truncated: true }
      : { ...base, members };
  };
  return {
    connections,
    room,
    user(userId) {
      const here = local.users.get(userId);
      const there = remote?.users.get(userId);
      const rooms = new Set(here?.rooms.keys() ?? []);
      for (const r of there?.rooms.keys() ?? []) rooms.add(r);
      return {
        user_id: userId,
        connections: (here?.connections ?? 0) + (there?.connections ?? 0),
        rooms: [...rooms].sort(),
      };
    },
    list(limit, after) {
      const names = new Set(local.rooms.keys());
      for (const r of remote?.rooms.keys() ?? []) names.add(r);
      const sorted = [...names].filter((r) => after === undefined || r > after)
        .sort();
      const page = sorted.slice(0, limit);
      return {
        rooms: page.map((r) => room(r)),
        next: sorted.length > limit ? page[page.length - 1] : null,
      };
    },
  };
}
