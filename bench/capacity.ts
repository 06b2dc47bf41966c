/**
 * The capacity row of bench/compare.ts: the highest room-event rate (one
 * event per POST, round robin over 100 rooms) a server sustains for the
 * scenario's seconds with every event delivered and p99 <= 100 ms, found by
 * stepping the rate up. The load generator's own CPU is read at each step:
 * a step where it used most of a core measured the generator, not the
 * server, and ends the search (the result says so).
 */

import process from "node:process";
import { type Cost, roomEvents } from "./scenarios.ts";
import type { Server } from "./servers.ts";
import type { Latencies, SseClient } from "./sse_load.ts";
import { cpuSplitMs } from "./support.ts";

/** Room events per second tried, in order (`--steps` gives others). */
export const CAPACITY_STEPS = [
  250,
  500,
  1000,
  1500,
  2000,
  3000,
  4000,
  6000,
  8000,
  12000,
];
/** The latency goal of a sustained rate. */
export const CAPACITY_P99_MS = 100;
/** Generator CPU (share of one core) past which a step measured it. */
const GENERATOR_BOUND = 0.9;

/** The sustained rate, and the generator's CPU share at it. */
export interface Capacity {
  readonly rate: number;
  readonly generatorCpu: number;
  /** The search stopped on the generator, not on the server. */
  readonly generatorBound: boolean;
}

/** Steps the rate until a step loses events, misses p99 or binds the generator. */
export async function capacity(
  server: Server,
  clients: readonly SseClient[],
  latencies: Latencies,
  seconds: number,
  log: (line: string) => void,
  steps: readonly number[] = CAPACITY_STEPS,
): Promise<Capacity> {
  let best: Capacity = { rate: 0, generatorCpu: 0, generatorBound: false };
  for (const rate of steps) {
    const before = cpuSplitMs(process.pid);
    const started = performance.now();
    const cost: Cost = await roomEvents(
      server,
      clients,
      latencies,
      rate,
      seconds,
    );
    const after = cpuSplitMs(process.pid);
    const elapsed = performance.now() - started;
    // Most of it is the kernel's (a TCP read per client per event).
    const user = (after.user - before.user) / elapsed;
    const system = (after.system - before.system) / elapsed;
    const generatorCpu = user + system;
    const held = cost.delivered === cost.expected &&
      cost.p99 <= CAPACITY_P99_MS;
    log(
      `capacity ${rate}/s: p99 ${
        cost.p99.toFixed(0)
      } ms, ${cost.delivered}/${cost.expected} delivered, generator ${
        (generatorCpu * 100).toFixed(0)
      }% of a core (user ${(user * 100).toFixed(0)}, system ${
        (system * 100).toFixed(0)
      })${held ? "" : " (missed)"}`,
    );
    if (generatorCpu >= GENERATOR_BOUND) {
      return { ...best, generatorBound: true };
    }
    if (!held) break;
    best = { rate, generatorCpu, generatorBound: false };
  }
  return best;
}
