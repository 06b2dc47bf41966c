/**
 * Latency: time from a REST publish until one subscriber has the event,
 * with N idle subscribers beside it. Reports median and p99.
 *
 *   deno run -A bench/latency.ts [others=1000] [events=300]
 *   bun run bench/latency.ts [others=1000] [events=300]
 */

import process from "node:process";
import { rawSubscribe } from "../tests/support/clients.ts";
import { publish, RUNTIME, startHypha } from "../tests/support/hypha.ts";
import { report } from "./support.ts";
import { restExample } from "../tests/support/config_builder.ts";

const others = Number(process.argv[2] ?? 1000);
const events = Number(process.argv[3] ?? 300);
const hypha = await startHypha(restExample());
try {
  const crowd = await Promise.all(
    Array.from(
      { length: others },
      () => rawSubscribe(hypha.urls.sse, "/events"),
    ),
  );
  const probe = await rawSubscribe(hypha.urls.sse, "/events");
  const samples: number[] = [];
  for (let n = 0; n < events; n++) {
    const started = performance.now();
    await publish(`${hypha.urls.api}notify`, { n });
    await probe.waitFor(n + 1);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  console.log(
    `latency on ${RUNTIME}: publish -> receive, ${others} other subscribers, ${events} events`,
  );
  report("median", samples[Math.floor(samples.length / 2)], "ms");
  report("p99", samples[Math.floor(samples.length * 0.99)], "ms");
  for (const c of [...crowd, probe]) c.close();
} finally {
  await hypha.stop();
}
