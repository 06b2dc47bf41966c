/**
 * What the owning thread pays per event handed to N delivery threads
 * (src/workers/fan_out.ts): the batch's buffer and one postMessage per
 * thread (a structured clone each), measured in process with real Workers
 * that only count what they receive. Subscribers cost the threads, not this.
 *
 *   ./node_modules/deno/deno run -A bench/thread_fanout.ts [--events 100000]
 *   bun run bench/thread_fanout.ts
 */

import process from "node:process";
import { EVERYONE } from "../src/core/history/audience.ts";
import { encodeEvent } from "../src/core/hub/sse.ts";
import { createEventBatches } from "../src/workers/fan_out.ts";
import type { ThreadPort } from "../src/workers/protocol.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const EVENTS = arg("events", 100_000);
const WORKER = `let n = 0;
onmessage = (e) => {
  if (e.data === "count") return postMessage(n);
  n += e.data.events.length;
};`;

/** µs per event on the owning thread, `perBatch` events per loop turn. */
async function measure(threads: number, perBatch: number): Promise<number> {
  const url = URL.createObjectURL(
    new Blob([WORKER], { type: "text/javascript" }),
  );
  const workers = Array.from(
    { length: threads },
    () => new Worker(url, { type: "module" }),
  );
  const batches = createEventBatches(workers as unknown as ThreadPort[]);
  const frame = encodeEvent({
    id: "1796551770897000",
    event: "message",
    data: JSON.stringify({ room: "r42", text: "x".repeat(60) }),
  });
  const start = performance.now();
  for (let i = 0; i < EVENTS; i += perBatch) {
    for (let j = 0; j < perBatch; j++) {
      batches.add("sse", {
        position: i + j,
        id: "1",
        audience: EVERYONE,
        frame,
      });
    }
    batches.flush();
  }
  const us = (performance.now() - start) * 1000 / EVENTS;
  await Promise.all(workers.map((w) =>
    new Promise((resolve) => {
      w.onmessage = resolve;
      w.postMessage("count");
    })
  ));
  for (const w of workers) w.terminate();
  return us;
}

const runtime = "Bun" in globalThis ? "bun" : "deno";
console.log(
  `| runtime | threads | events per batch | µs per event (owning thread) |`,
);
console.log(`| --- | --- | --- | --- |`);
for (const threads of [1, 2, 4]) {
  for (const perBatch of [1, 100]) {
    const us = await measure(threads, perBatch);
    console.log(`| ${runtime} | ${threads} | ${perBatch} | ${us.toFixed(2)} |`);
  }
}
process.exit(0);
