/**
 * Slow clients: N subscribers that never read, beside a few normal ones,
 * under a steady stream of 64 KiB events. Reports server RSS while the slow
 * ones pile up and after they are cut off, and the normal ones' delivery.
 *
 *   deno run -A bench/slow_clients.ts [slow=1000] [events=200]
 *   bun run bench/slow_clients.ts [slow=1000] [events=200]
 */

import process from "node:process";
import { rawRequest, rawSubscribe } from "../tests/support/clients.ts";
import { publish, RUNTIME, startHypha } from "../tests/support/hypha.ts";
import { report, rssMiB } from "./support.ts";
import { restExample } from "../tests/support/config_builder.ts";

const slowCount = Number(process.argv[2] ?? 1000);
const events = Number(process.argv[3] ?? 200);
const hypha = await startHypha(
  restExample({ max_buffered: "1MiB", history: { max_bytes: "16MiB" } }),
);
try {
  const pid = hypha.process.pid;
  const baseline = rssMiB(pid);
  const slow = await Promise.all(
    Array.from(
      { length: slowCount },
      () =>
        rawRequest(hypha.urls.sse, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n", {
          read: false,
        }),
    ),
  );
  const normal = await Promise.all(
    Array.from({ length: 10 }, () => rawSubscribe(hypha.urls.sse, "/events")),
  );
  const blob = "x".repeat(64 * 1024);
  let peak = 0;
  const started = performance.now();
  for (let n = 0; n < events; n++) {
    await publish(`${hypha.urls.api}notify`, { n, blob });
    if (n % 10 === 0) peak = Math.max(peak, rssMiB(pid));
  }
  await Promise.all(normal.map((c) => c.waitFor(events, 120_000)));
  const elapsed = performance.now() - started;
  const stats = await (await fetch(`${hypha.urls.api}stats`)).json();
  console.log(
    `slow clients on ${RUNTIME}: ${slowCount} never-reading subscribers, ${events} events of 64 KiB`,
  );
  report("server RSS before", baseline, "MiB");
  report("server RSS peak", peak, "MiB");
  report("server RSS after", rssMiB(pid), "MiB");
  report("slow subscribers disconnected", stats.hubs.sse.closed.slow, "");
  report("normal subscribers: all events delivered in", elapsed, "ms");
  for (const c of [...slow, ...normal]) c.close();
} finally {
  await hypha.stop();
}
