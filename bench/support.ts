/** Shared bits of the benchmarks: process stats of the server under test. */

import { readFileSync } from "node:fs";

/** Resident set size of `pid`, in MiB (Linux). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** User + system CPU time of `pid`, in ms (Linux, 100 ticks per second). */
export function cpuMs(pid: number): number {
  const { user, system } = cpuSplitMs(pid);
  return user + system;
}

/** User and system CPU time of `pid` apart, in ms. */
export function cpuSplitMs(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(
    " ",
  );
  return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
}

/** Prints one result line as `name value unit`, easy to grep and compare. */
export function report(name: string, value: number, unit: string): void {
  console.log(`${name.padEnd(44)} ${value.toFixed(1).padStart(10)} ${unit}`);
}
