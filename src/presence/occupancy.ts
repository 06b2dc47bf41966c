/**
 * When a room becomes occupied or vacated, told once. Every instance runs
 * this same state machine over the same (cluster-wide) counts, so every one
 * knows which rooms were announced; only the room's owner speaks. A room is
 * vacated only after it stayed empty for `vacate_after`, so a reconnect
 * (leave then join) says nothing. One sweep timer serves every room.
 *
 * @module
 */

import { clearLongTimeout, setLongInterval } from "../core/long_timer.ts";

/** What the state machine reads and tells. */
export interface OccupancyOptions {
  readonly vacateAfterMs: number;
  /** Connections in the room, cluster-wide. */
  connections(room: string): number;
  /** True when this instance speaks for the room now. */
  owns(room: string): boolean;
  occupied(room: string): void;
  vacated(room: string): void;
  readonly now: () => number;
}

/** The announced state of every room. */
export interface Occupancy {
  /** The room's count may have crossed zero: look again. */
  changed(room: string): void;
  /** Rooms announced occupied (for stats). */
  readonly size: number;
  stop(): void;
}

const MAX_SWEEP_MS = 500;

/** Starts the sweep timer; `stop` ends it. */
export function createOccupancy(options: OccupancyOptions): Occupancy {
  const announced = new Set<string>();
  /** Rooms announced occupied whose count is 0, and since when. */
  const emptySince = new Map<string, number>();

  const vacate = (room: string) => {
    emptySince.delete(room);
    announced.delete(room);
    if (options.owns(room)) options.vacated(room);
  };

  const sweep = () => {
    const now = options.now();
    for (const [room, since] of emptySince) {
      if (now - since < options.vacateAfterMs) continue;
      if (options.connections(room) > 0) emptySince.delete(room);
      else vacate(room);
    }
  };
  const timer = setLongInterval(
    sweep,
    Math.max(20, Math.min(MAX_SWEEP_MS, options.vacateAfterMs / 4)),
  );

  return {
    changed(room) {
      if (options.connections(room) > 0) {
        emptySince.delete(room);
        if (announced.has(room)) return;
        announced.add(room);
        if (options.owns(room)) options.occupied(room);
      } else if (announced.has(room) && !emptySince.has(room)) {
        if (options.vacateAfterMs === 0) vacate(room);
        else emptySince.set(room, options.now());
      }
    },
    get size() {
      return announced.size;
    },
    stop: () => clearLongTimeout(timer),
  };
}

/** FNV-1a, 32 bits: the same on every runtime and instance. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The owner of `room` among `candidates` (rendezvous hashing): every
 * instance that agrees on the candidates picks the same one, and losing an
 * instance moves only the rooms it owned.
 */
export function ownerOf(room: string, candidates: readonly string[]): string {
  let best = candidates[0];
  let bestScore = -1;
  for (const id of candidates) {
    const score = hash(`${room}\n${id}`);
    if (score > bestScore || (score === bestScore && id < best)) {
      best = id;
      bestScore = score;
    }
  }
  return best;
}
