/**
 * Fan-out cost: N subscribers, a publisher sending R broadcasts per second
 * for S seconds. Reports server CPU per delivery and whether every
 * subscriber kept up.
 *
 *   deno run -A bench/fanout.ts [clients=2000] [rate=500] [seconds=5]
 *   bun run bench/fanout.ts [clients=2000] [rate=500] [seconds=5]
 */

import process from "node:process";
import { rawSubscribe, sleep } from "../tests/support/clients.ts";
import { RUNTIME, startHypha } from "../tests/support/hypha.ts";
import { cpuMs, report, rssMiB } from "./support.ts";
import { restExample } from "../tests/support/config_builder.ts";

const clients = Number(process.argv[2] ?? 2000);
const rate = Number(process.argv[3] ?? 500);
const seconds = Number(process.argv[4] ?? 5);
const hypha = await startHypha(restExample());
try {
  const pid = hypha.process.pid;
  const subscribers = await Promise.all(
    Array.from(
      { length: clients },
      () => rawSubscribe(hypha.urls.sse, "/events"),
    ),
  );
  const url = `${hypha.urls.api}notify`;
  const body = JSON.stringify({
    price: 101.25,
    symbol: "HYP",
    note: "x".repeat(100),
  });
  const total = rate * seconds;
  const cpuBefore = cpuMs(pid);
  const started = performance.now();
  for (let n = 0; n < total; n++) {
    // Keep the rate: publish in small bursts on a 10 ms grid.
    const due = started + (n / rate) * 1000;
    const wait = due - performance.now();
    if (wait > 2) await sleep(wait);
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    })
      .then((r) => r.body?.cancel());
  }
  await Promise.all(subscribers.map((s) => s.waitFor(total, 120_000)));
  const elapsed = performance.now() - started;
  const cpu = cpuMs(pid) - cpuBefore;
  console.log(
    `fan-out on ${RUNTIME}: ${clients} subscribers, ${rate} events/s for ${seconds} s`,
  );
  report("deliveries", clients * total, "");
  report("server CPU per delivery", (cpu * 1000) / (clients * total), "µs");
  report("server CPU share of wall time", (cpu / elapsed) * 100, "%");
  report("time until every subscriber had every event", elapsed, "ms");
  report("server RSS", rssMiB(pid), "MiB");
  for (const s of subscribers) s.close();
} finally {
  await hypha.stop();
}
