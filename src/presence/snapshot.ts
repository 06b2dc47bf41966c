/**
 * One instance's contribution to a cluster's presence, as it travels over
 * RabbitMQ: every room it holds (connections and user ids) and every user
 * (connections). A receiver checks the shape before using it: a stray or
 * malformed message on the exchange is dropped, never trusted.
 *
 * @module
 */

import type { LocalPresence } from "./local.ts";

/** A contribution: what instance `instance` holds right now. */
export interface Snapshot {
  readonly instance: string;
  /** [room, connections, user ids in it] */
  readonly rooms: readonly (readonly [string, number, readonly string[]])[];
  /** [user id, connections] */
  readonly users: readonly (readonly [string, number])[];
  /** True when the instance is leaving: forget it now. */
  readonly bye?: boolean;
  /**
   * True once the instance has heard the others long enough to know which
   * rooms are occupied; only warm instances own rooms (see occupancy.ts).
   */
  readonly warm?: boolean;
}

/** The snapshot of `local` under `instance`. */
export function takeSnapshot(
  instance: string,
  local: LocalPresence,
  warm: boolean,
): Snapshot {
  const rooms: [string, number, string[]][] = [];
  for (const [room, entry] of local.rooms) {
    rooms.push([room, entry.connections, [...entry.users.keys()]]);
  }
  const users: [string, number][] = [];
  for (const [user, entry] of local.users) {
    users.push([user, entry.connections]);
  }
  return { instance, rooms, users, warm };
}

const isCount = (n: unknown): n is number =>
  typeof n === "number" && Number.isSafeInteger(n) && n > 0;

/** The snapshot in `text`, or undefined when it is not one. */
export function parseSnapshot(text: string): Snapshot | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { instance, rooms, users, bye, warm } = value as Record<
    string,
    unknown
  >;
  if (typeof instance !== "string" || instance === "") return undefined;
  if (!Array.isArray(rooms) || !Array.isArray(users)) return undefined;
  const roomsOk = rooms.every((r) =>
    Array.isArray(r) && typeof r[0] === "string" && isCount(r[1]) &&
    Array.isArray(r[2]) && r[2].every((u: unknown) => typeof u === "string")
  );
  const usersOk = users.every((u) =>
    Array.isArray(u) && typeof u[0] === "string" && isCount(u[1])
  );
  if (!roomsOk || !usersOk) return undefined;
  return { instance, rooms, users, bye: bye === true, warm: warm === true };
}
