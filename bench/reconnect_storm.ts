/**
 * Reconnect storm: N subscribers come back at once with Last-Event-ID after
 * missing M events. Reports the time until every one has its missed events.
 *
 *   deno run -A bench/reconnect_storm.ts [clients=2000] [missed=20]
 *   bun run bench/reconnect_storm.ts [clients=2000] [missed=20]
 */

import process from "node:process";
import { rawSubscribe, subscribe } from "../tests/support/clients.ts";
import { publish, RUNTIME, startHypha } from "../tests/support/hypha.ts";
import { cpuMs, report, rssMiB } from "./support.ts";
import { restExample } from "../tests/support/config_builder.ts";

const clients = Number(process.argv[2] ?? 2000);
const missed = Number(process.argv[3] ?? 20);
// On Deno, connections past max_pending_connections that have not sent a
// request yet are refused; the storm's raw clients do not retry.
const hypha = await startHypha(
  restExample({ max_pending_connections: Math.max(1024, 2 * clients) }),
);
try {
  const probe = subscribe(hypha.urls.sse);
  await probe.opened;
  await publish(`${hypha.urls.api}notify`, { n: -1 });
  const [mark] = await probe.waitFor(1);
  probe.close();
  for (let n = 0; n < missed; n++) {
    await publish(`${hypha.urls.api}notify`, { n, pad: "x".repeat(200) });
  }

  const cpuBefore = cpuMs(hypha.process.pid);
  const started = performance.now();
  const subscribers = await Promise.all(
    Array.from(
      { length: clients },
      () =>
        rawSubscribe(hypha.urls.sse, "/events", {
          "Last-Event-ID": mark.lastEventId,
        }),
    ),
  );
  await Promise.all(subscribers.map((s) => s.waitFor(missed, 120_000)));
  const elapsed = performance.now() - started;
  const lost = subscribers.filter((s) => s.events.length !== missed).length;
  console.log(
    `reconnect storm on ${RUNTIME}: ${clients} clients, ${missed} missed events each`,
  );
  report("time until all resumed", elapsed, "ms");
  report(
    "server CPU during the storm",
    cpuMs(hypha.process.pid) - cpuBefore,
    "ms",
  );
  report("server RSS after", rssMiB(hypha.process.pid), "MiB");
  report("clients with a wrong event count", lost, "");
  for (const s of subscribers) s.close();
} finally {
  await hypha.stop();
}
