/**
 * What Mercure's topic selectors cost at fan-out: 10,000 subscribers over
 * 1,000 distinct selectors (500 URI templates, 500 exact topics, 10
 * subscribers each) in one hub, in process; each update goes to one topic.
 * Reports µs per update through the hub's index (templates matched once per
 * distinct selector, cached per topic) beside a naive loop that tests every
 * subscriber's selectors, and the one-time cost of compiling a template.
 *
 *     deno run -A bench/mercure_match.ts      (or: bun bench/mercure_match.ts)
 */

import type { Connection } from "../src/core/hub/connection.ts";
import { createHub } from "../src/core/hub/hub.ts";
import { createMemoryLog } from "../src/core/history/memory_log.ts";
import { publishUpdate } from "../src/core/flows/mercure_update.ts";
import { createTopicIndex } from "../src/core/hub/topic_index.ts";
import { anyMatches } from "../src/core/hub/topic_selector.ts";

const SUBSCRIBERS = 10_000;
const SELECTORS = 1_000;
const UPDATES = 4_000;
const WARM_UP = 2_000;

const selectorOf = (k: number) =>
  k % 2 === 0
    ? `https://example.com/rooms/${k}/{id}`
    : `https://example.com/items/${k}`;
const topicOf = (n: number) => {
  const k = n % SELECTORS;
  return k % 2 === 0
    ? `https://example.com/rooms/${k}/${n}`
    : `https://example.com/items/${k}`;
};

const compileStart = performance.now();
const index = createTopicIndex();
const subscriptions: Connection[] = [];
for (let i = 0; i < SUBSCRIBERS; i++) {
  const c = {
    topics: { selectors: [selectorOf(i % SELECTORS)], allowed: [] },
  } as unknown as Connection;
  subscriptions.push(c);
  index.add(c);
}
const compileMs = performance.now() - compileStart;

const hub = createHub({
  log: createMemoryLog({ history: { size: 0, maxBytes: 0, ttlMs: 0 } }),
  heartbeatMs: 0,
  retryMs: 1000,
  maxBufferedBytes: 64 << 20,
  gapEvent: "gap",
});
const streams = subscriptions.map((c) =>
  hub.subscribe({ rooms: new Set(), userId: undefined, topics: c.topics })
);

function measure(label: string, run: (n: number) => void): number {
  // Each template meets a few topics first: its state machine is built lazily.
  for (let n = 0; n < WARM_UP; n++) run(n + UPDATES);
  const start = performance.now();
  for (let n = 0; n < UPDATES; n++) run(n);
  const us = (performance.now() - start) * 1000 / UPDATES;
  console.log(`${label}: ${us.toFixed(1)} µs per update`);
  return us;
}

let delivered = 0;
measure("hub publish (index, 10 recipients each)", (n) => {
  const a = publishUpdate(hub, {
    topics: [topicOf(n)],
    data: "{}",
    private: false,
  });
  if (!(a instanceof Promise)) delivered += a.delivered;
});
measure("naive: every subscriber's selectors per update", (n) => {
  const topics = [topicOf(n)];
  let hits = 0;
  for (const c of subscriptions) {
    if (anyMatches(c.topics!.selectors, topics)) hits++;
  }
  if (hits !== 10) throw new Error(`naive matched ${hits}`);
});
console.log(
  `setup: ${SUBSCRIBERS} subscribers over ${SELECTORS} selectors indexed in ${
    compileMs.toFixed(0)
  } ms (${(compileMs / (SELECTORS / 2)).toFixed(2)} ms per template compiled)`,
);
console.log(`deliveries: ${delivered} (expected ${(UPDATES + WARM_UP) * 10})`);
for (const s of streams) s.disconnect();
hub.close(0);
