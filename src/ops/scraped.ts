/**
 * Metrics whose samples are read at scrape time from counters hypha keeps
 * anyway, so nothing is counted twice and nothing per delivery.
 *
 * @module
 */

import { Counter, Gauge, type Registry } from "prom-client";

/** Labels and value of one sample. */
export type Sample = readonly [Record<string, string>, number];

/** A metric whose samples are read at scrape time. */
export function define(registry: Registry, kind: "gauge" | "counter") {
  return (
    name: string,
    help: string,
    labelNames: string[],
    read: () => Sample[],
  ) => {
    const options = { name, help, labelNames, registers: [registry] };
    if (kind === "gauge") {
      new Gauge({
        ...options,
        collect() {
          this.reset();
          for (const [labels, value] of read()) this.set(labels, value);
        },
      });
    } else {
      new Counter({
        ...options,
        collect() {
          this.reset();
          for (const [labels, value] of read()) this.inc(labels, value);
        },
      });
    }
  };
}
