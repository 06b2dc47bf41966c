/**
 * Who is connected: every connection, and indexes by room and by user, so
 * an event for a room or user touches only its recipients.
 *
 * @module
 */

import type { Audience } from "../history/audience.ts";
import type { Connection } from "./connection.ts";
import { createTopicIndex } from "./topic_index.ts";

/** The connections of one hub and their indexes. */
export interface Registry {
  readonly all: ReadonlySet<Connection>;
  add(connection: Connection): void;
  remove(connection: Connection): void;
  /** The index sets holding the audience's connections (may overlap). */
  groups(audience: Audience): (ReadonlySet<Connection> | undefined)[];
  readonly rooms: number;
  readonly users: number;
  /** Distinct Mercure topic selectors in use. */
  readonly selectors: number;
}

type Index = Map<string, Set<Connection>>;

const enter = (index: Index, key: string, c: Connection) => {
  let set = index.get(key);
  if (set === undefined) index.set(key, set = new Set());
  set.add(c);
};

const leave = (index: Index, key: string, c: Connection) => {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(c);
  if (set.size === 0) index.delete(key);
};

/** Creates an empty registry. */
export function createRegistry(): Registry {
  const all = new Set<Connection>();
  const byRoom: Index = new Map();
  const byUser: Index = new Map();
  const byTopic = createTopicIndex();
  return {
    all,
    add(c) {
      all.add(c);
      for (const room of c.rooms) enter(byRoom, room, c);
      if (c.userId !== undefined) enter(byUser, c.userId, c);
      if (c.topics !== undefined) byTopic.add(c);
    },
    remove(c) {
      all.delete(c);
      for (const room of c.rooms) leave(byRoom, room, c);
      if (c.userId !== undefined) leave(byUser, c.userId, c);
      if (c.topics !== undefined) byTopic.remove(c);
    },
    groups(audience) {
      if (audience.kind === "all") return [all];
      if (audience.kind === "topics") {
        const groups: (ReadonlySet<Connection> | undefined)[] = [];
        byTopic.collect(audience.names, groups);
        return groups;
      }
      const index = audience.kind === "room" ? byRoom : byUser;
      return audience.names.map((name) => index.get(name));
    },
    get rooms() {
      return byRoom.size;
    },
    get users() {
      return byUser.size;
    },
    get selectors() {
      return byTopic.selectors;
    },
  };
}
