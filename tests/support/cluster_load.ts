/**
 * Load for cluster fault tests: publishers posting batches to rooms over
 * REST, round-robin over the live instances, recording what was confirmed
 * (an element answered with an id), and the check of what every client
 * received against it.
 */

import assert from "node:assert/strict";
import type { Subscriber } from "./clients.ts";
import { type Hypha, publish } from "./hypha.ts";

/** Publishers side by side; each sends its own increasing n. */
export const PUBLISHERS = 4;
const SPAN = 1_000_000;

/** The room of client (or batch) `i` among `rooms`. */
export const roomOf = (i: number, rooms: number) => `r${i % rooms}`;

/** A running load: what was confirmed, by room, with each event's id. */
export interface Load {
  /** Room -> n -> id of every confirmed event. */
  readonly confirmed: Map<string, Map<number, string>>;
  count(): number;
  rate(): number;
  stop(): Promise<void>;
}

/**
 * Each publisher posts a batch of `batch` events every `periodMs` to one
 * room at a time (n = p * SPAN + k), to the next live instance.
 */
export function startLoad(
  live: () => readonly Hypha[],
  options: { rooms: number; batch: number; periodMs: number },
): Load {
  const confirmed = new Map<string, Map<number, string>>();
  let count = 0;
  let running = true;
  const loop = async (p: number) => {
    let next = Date.now();
    for (let b = 0, k = 0; running; b++) {
      const room = roomOf(p + b, options.rooms);
      const ns = Array.from({ length: options.batch }, () => p * SPAN + ++k);
      const targets = live();
      const target = targets[(p + b) % targets.length];
      try {
        const answer = await publish(
          new URL(`/notify/${room}`, target.urls.api).href,
          ns.map((n) => ({ n })),
        );
        const results = (answer.body.results ?? []) as { id?: string }[];
        const mine = confirmed.get(room) ?? new Map<number, string>();
        confirmed.set(room, mine);
        for (const [i, r] of results.entries()) {
          if (r.id === undefined) continue;
          mine.set(ns[i], r.id);
          count++;
        }
      } catch {
        // The instance went away mid-request: these n's fate is unknown.
      }
      next += options.periodMs;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
  };
  const started = Date.now();
  const done = Promise.all(
    Array.from({ length: PUBLISHERS }, (_, p) => loop(p)),
  );
  return {
    confirmed,
    count: () => count,
    rate: () => Math.round(count / ((Date.now() - started) / 1000)),
    async stop() {
      running = false;
      await done;
    },
  };
}

/** The n of every message a client received. */
export const numbersOf = (c: Subscriber): number[] =>
  c.events.filter((e) => e.type === "message").map((e) =>
    JSON.parse(e.data).n as number
  );

/** Epoch and offset of a cluster id. */
function parseClusterId(id: string): { epoch: string; offset: number } {
  const [epoch, offset] = id.split("-");
  return { epoch, offset: Number(offset) };
}

/**
 * True when a gap the client received covers the event `id`: a gap says
 * what came after its last_event_id up to its resume_from is unknown, on
 * the same stream or across a recreated one (another epoch).
 */
function covered(c: Subscriber, id: string): boolean {
  const event = parseClusterId(id);
  return c.events.some((e) => {
    if (e.type !== "gap") return false;
    const gap = JSON.parse(e.data);
    const last = parseClusterId(gap.last_event_id ?? "");
    const resume = parseClusterId(gap.resume_from ?? "");
    const across = last.epoch !== resume.epoch;
    if (event.epoch === last.epoch && event.offset > last.offset) {
      return across || event.offset <= resume.offset;
    }
    return across && event.epoch === resume.epoch &&
      event.offset <= resume.offset;
  });
}

/**
 * Every client of room `roomOf(i)`: each publisher's events strictly
 * increasing (in order, none twice); none of other rooms; every confirmed
 * event of its room received or covered by a gap (`allowGaps`), else no
 * gap at all. Returns the ids each n had, to compare across instances.
 */
export function assertPromiseKept(
  clients: readonly Subscriber[],
  load: Load,
  rooms: number,
  allowGaps: boolean,
): { gaps: number; covered: number } {
  const roomByN = new Map<number, string>();
  for (const [room, ns] of load.confirmed) {
    for (const n of ns.keys()) roomByN.set(n, room);
  }
  const idOf = new Map<number, string>();
  let gaps = 0;
  let coveredCount = 0;
  for (const [i, c] of clients.entries()) {
    const room = roomOf(i, rooms);
    const clientGaps = c.events.filter((e) => e.type === "gap").length;
    gaps += clientGaps;
    if (!allowGaps) assert.equal(clientGaps, 0, `client ${i} got a gap`);
    const got = numbersOf(c);
    for (let p = 0; p < PUBLISHERS; p++) {
      const mine = got.filter((n) => Math.floor(n / SPAN) === p);
      for (let k = 1; k < mine.length; k++) {
        assert.ok(
          mine[k] > mine[k - 1],
          `client ${i}: ${mine[k - 1]} then ${mine[k]}`,
        );
      }
    }
    const foreign = got.filter((n) => (roomByN.get(n) ?? room) !== room);
    assert.deepEqual(foreign, [], `client ${i} got other rooms' events`);
    for (const e of c.events) {
      if (e.type !== "message") continue;
      const n = JSON.parse(e.data).n as number;
      const seen = idOf.get(n);
      assert.ok(
        seen === undefined || seen === e.lastEventId,
        `event ${n} has id ${e.lastEventId} here, ${seen} elsewhere`,
      );
      idOf.set(n, e.lastEventId);
    }
    const have = new Set(got);
    const missing: number[] = [];
    for (const [n, id] of load.confirmed.get(room) ?? []) {
      if (have.has(n)) continue;
      if (allowGaps && covered(c, id)) coveredCount++;
      else missing.push(n);
    }
    assert.deepEqual(missing, [], `client ${i} missed events, with no gap`);
  }
  return { gaps, covered: coveredCount };
}
