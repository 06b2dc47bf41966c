/**
 * Metrics of the subscriber auth callbacks: calls by result, failures by
 * kind, call latency, where each subscriber's answer came from, and
 * subscribers turned away as busy. Counted as the probe reports them (one
 * call is already a network round trip; a count beside it costs nothing).
 *
 * @module
 */

import { Counter, Histogram, type Registry } from "prom-client";
import type { CallbackProbe, CallOutcome } from "../auth/callback_probe.ts";

const FAILURES = ["unreachable", "timeout", "status", "malformed"] as const;
/** Seconds; an app's session lookup is usually a few milliseconds. */
const CALL_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
];

/** Registers the metrics and listens to each connector's probe. */
export function registerAuthMetrics(
  registry: Registry,
  callbacks: Readonly<Record<string, CallbackProbe>>,
): void {
  const names = Object.keys(callbacks);
  if (names.length === 0) return;
  const registers = [registry];
  const calls = new Counter({
    name: "hypha_auth_callback_calls_total",
    help: "Calls to the auth callback, by result (granted, refused, failed).",
    labelNames: ["connector", "result"],
    registers,
  });
  const failures = new Counter({
    name: "hypha_auth_callback_failures_total",
    help:
      "Auth callback calls that gave no usable answer (subscribers got 503), by reason.",
    labelNames: ["connector", "reason"],
    registers,
  });
  const seconds = new Histogram({
    name: "hypha_auth_callback_seconds",
    help: "Duration of auth callback calls, failed ones included.",
    labelNames: ["connector"],
    buckets: CALL_BUCKETS,
    registers,
  });
  const lookups = new Counter({
    name: "hypha_auth_callback_lookups_total",
    help:
      "Subscribers authorized through the callback, by where the answer came from (cache, shared: a call in flight, call).",
    labelNames: ["connector", "source"],
    registers,
  });
  const busy = new Counter({
    name: "hypha_auth_callback_busy_total",
    help:
      "Subscribers answered 503 because max_inflight calls were in flight for the whole timeout.",
    labelNames: ["connector"],
    registers,
  });
  for (const connector of names) {
    // Every series exists from the start, at 0: alerts need no absent().
    for (const result of ["granted", "refused", "failed"]) {
      calls.inc({ connector, result }, 0);
    }
    for (const reason of FAILURES) failures.inc({ connector, reason }, 0);
    for (const source of ["cache", "shared", "call"]) {
      lookups.inc({ connector, source }, 0);
    }
    busy.inc({ connector }, 0);
    seconds.zero({ connector });
    callbacks[connector].listen({
      called: (outcome: CallOutcome, s: number) => {
        const failed = outcome !== "granted" && outcome !== "refused";
        calls.inc({ connector, result: failed ? "failed" : outcome });
        if (failed) failures.inc({ connector, reason: outcome });
        seconds.observe({ connector }, s);
      },
      looked: (source) => lookups.inc({ connector, source }),
      busy: () => busy.inc({ connector }),
    });
  }
}
