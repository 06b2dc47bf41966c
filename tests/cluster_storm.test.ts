import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { subscribe, type Subscriber } from "./support/clients.ts";
import {
  cleanupCluster,
  clusterNames,
  clusterStats,
  startInstance,
} from "./support/cluster.ts";
import { type Hypha, publish, RUNTIME } from "./support/hypha.ts";

const EVENTS = 20_000;
const ROOMS = 100;
const CLIENTS = 200;
const BATCH = 100;
/** Each batch of BATCH events goes to one room, the next batch to the next. */
const roomOf = (n: number) => Math.floor(n / BATCH) % ROOMS;

describe(`cluster resume storm (${RUNTIME})`, () => {
  test("200 clients resume at once from ids spread over a 20,000-event stream (cache 1,000): each gets exactly its room's missed events, no gap, and the instance stays attached", async () => {
    const names = clusterNames();
    let instance: Hypha | undefined;
    const clients: Subscriber[] = [];
    try {
      instance = await startInstance(names, RUNTIME, { size: 1000 });
      const ids: string[] = [];
      for (let start = 0; start < EVENTS; start += BATCH) {
        const items = Array.from({ length: BATCH }, (_, k) => ({
          n: start + k,
        }));
        const answer = await publish(
          new URL(`/notify/r${roomOf(start)}`, instance.urls.api).href,
          items,
        );
        assert.equal(answer.status, 202, JSON.stringify(answer.body));
        for (const r of answer.body.results as { id: string }[]) {
          ids.push(r.id);
        }
      }
      // Client i is in room r(i % ROOMS) and last saw event i * 97.
      const from = (i: number) => (i * 97) % (EVENTS - ROOMS);
      for (let i = 0; i < CLIENTS; i++) {
        clients.push(
          subscribe(`${instance.urls.sse}?room=r${i % ROOMS}`, {
            types: ["gap"],
            headers: { "last-event-id": ids[from(i)] },
          }),
        );
      }
      const expected = (i: number) => {
        const ns: number[] = [];
        for (let n = from(i) + 1; n < EVENTS; n++) {
          if (roomOf(n) === i % ROOMS) ns.push(n);
        }
        return ns;
      };
      await Promise.all(
        clients.map((c, i) => c.waitFor(expected(i).length, 120_000)),
      );
      for (const [i, c] of clients.entries()) {
        assert.deepEqual(c.events.filter((e) => e.type === "gap"), []);
        assert.deepEqual(
          c.events.map((e) => JSON.parse(e.data).n),
          expected(i),
          `client ${i}`,
        );
      }
      const stats = await clusterStats(instance);
      assert.equal(stats.attached, true);
      // 20 windows of 1,000 offsets cover the stream: reads are shared,
      // never one per client.
      assert.ok(stats.stream_reads < CLIENTS, `${stats.stream_reads} reads`);
      console.log(
        `(${stats.stream_reads} stream reads for ${CLIENTS} resumes)`,
      );
    } finally {
      for (const c of clients) c.close();
      await instance?.stop();
      await cleanupCluster(names);
    }
  });
});
