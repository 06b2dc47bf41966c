/**
 * The three standard process metrics dashboards expect. prom-client's
 * collectDefaultMetrics also starts event-loop and GC monitors that lean on
 * Node internals; these three need only node:process, on Deno and Bun alike.
 *
 * @module
 */

import process from "node:process";
import { Counter, Gauge, type Registry } from "prom-client";

/** Registers process_resident_memory_bytes, _cpu_seconds_total, _start_time_seconds. */
export function registerProcessMetrics(registry: Registry): void {
  const startTime = Math.round(Date.now() / 1000 - process.uptime());
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    registers: [registry],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Counter({
    name: "process_cpu_seconds_total",
    help: "Total user and system CPU time spent in seconds.",
    registers: [registry],
    collect() {
      const { user, system } = process.cpuUsage();
      this.reset();
      this.inc((user + system) / 1e6);
    },
  });
  new Gauge({
    name: "process_start_time_seconds",
    help: "Start time of the process since unix epoch in seconds.",
    registers: [registry],
    collect() {
      this.set(startTime);
    },
  });
}
