import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import type { LoggedEvent } from "../src/core/history/event_log.ts";
import { createLogger } from "../src/core/log.ts";
import { createStreamLog, type StreamLog } from "../src/cluster/stream_log.ts";
import { encodeEventRecord } from "../src/cluster/record.ts";
import {
  freePort,
  RABBITMQ_URL,
  startBrokerProxy,
  uniqueName,
} from "./support/rabbitmq.ts";
import { RUNTIME } from "./support/hypha.ts";

const decoder = new TextDecoder();
const quiet = createLogger(() => {}, "error");

interface Instance {
  readonly log: StreamLog;
  readonly delivered: LoggedEvent[];
  /** What the log told the hub it lost, as "<reason> <resume from>". */
  readonly gaps: string[];
}

async function startInstance(
  stream: string,
  options: {
    cacheSize?: number;
    maxBytes?: number;
    maxReplayOffsets?: number;
    reconnectDelayMs?: number;
    url?: string;
  } = {},
): Promise<Instance> {
  const delivered: LoggedEvent[] = [];
  const gaps: string[] = [];
  const log = createStreamLog({
    stream: { name: stream, maxAgeMs: 0, maxBytes: options.maxBytes ?? 0 },
    url: options.url ?? RABBITMQ_URL,
    connectionName: uniqueName("stream-log"),
    heartbeatSeconds: 10,
    reconnectDelayMs: options.reconnectDelayMs ?? 200,
    cacheSize: options.cacheSize ?? 1000,
    cacheBytes: 1 << 20,
    maxReplayOffsets: options.maxReplayOffsets,
    log: quiet,
    where: { stream },
  });
  log.connect((event) => {
    delivered.push(event);
    return 1;
  }, (reason, resumeFrom) => gaps.push(`${reason} ${resumeFrom}`));
  await log.start();
  return { log, delivered, gaps };
}

async function deleteQueue(name: string): Promise<void> {
  const client = new AMQPClient(RABBITMQ_URL, undefined, null);
  await client.connect();
  const channel = await client.channel();
  await channel.queueDelete(name);
  await client.close();
}

const everyone = { rooms: new Set<string>(), userId: undefined };
const text = (frames: readonly Uint8Array[]) =>
  frames.map((f) => decoder.decode(f)).join("");

/** Reads every frame after `after` the way the hub's replay does. */
async function readAll(log: StreamLog, after: number, budget = 1 << 16) {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 10_000; i++) {
    const chunk = await log.read(after, everyone, budget);
    if (chunk.kind === "gap") return { gap: chunk.reason, frames };
    frames.push(...chunk.frames);
    if (chunk.last >= log.lastPosition) return { frames };
    after = chunk.last;
  }
  throw new Error("replay did not end");
}

const record = (n: number) => ({
  audience: { kind: "all" as const },
  event: "message",
  data: JSON.stringify({ n }),
});

describe(`cluster stream log (${RUNTIME})`, () => {
  test("two instances deliver the same events in the same order with the same ids", async () => {
    const stream = uniqueName("stream");
    const a = await startInstance(stream);
    const b = await startInstance(stream);
    try {
      const ids: string[] = [];
      for (let n = 1; n <= 20; n++) {
        const log = n % 2 ? a.log : b.log;
        ids.push((await log.append(record(n))).id);
      }
      const deadline = Date.now() + 10_000;
      while (b.delivered.length < 20 || a.delivered.length < 20) {
        if (Date.now() > deadline) throw new Error("not delivered");
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual(a.delivered.map((e) => e.id), ids);
      assert.deepEqual(b.delivered.map((e) => e.id), ids);
      assert.deepEqual(
        a.delivered.map((e) => decoder.decode(e.frame)),
        b.delivered.map((e) => decoder.decode(e.frame)),
      );
      assert.match(
        decoder.decode(a.delivered[0].frame),
        /^id: [0-9a-z]+-\d+\nevent: message\ndata: \{"n":1\}\n\n$/,
      );
    } finally {
      await a.log.close();
      await b.log.close();
      await deleteQueue(stream);
    }
  });

  test("an instance started later resumes an old id from the stream, in windows it shares", async () => {
    const stream = uniqueName("stream");
    const a = await startInstance(stream);
    let late: Instance | undefined;
    try {
      const ids: string[] = [];
      for (let n = 1; n <= 30; n++) {
        ids.push((await a.log.append(record(n))).id);
      }
      late = await startInstance(stream, { cacheSize: 5 });
      for (let n = 31; n <= 40; n++) {
        ids.push((await late.log.append(record(n))).id);
      }
      const start = await late.log.resume(ids[9]);
      assert.equal(start.kind, "replay");
      if (start.kind !== "replay") return;
      const [one, two] = await Promise.all([
        readAll(late.log, start.after, 64),
        readAll(late.log, start.after, 64),
      ]);
      const expected = Array.from(
        { length: 30 },
        (_, i) =>
          `id: ${ids[10 + i]}\nevent: message\ndata: {"n":${11 + i}}\n\n`,
      ).join("");
      assert.equal(text(one.frames), expected);
      assert.equal(text(two.frames), expected);
      // Both readers shared one read of the window.
      assert.equal(late.log.clusterStats().stream_reads, 1);
      assert.deepEqual(await late.log.resume(ids[39]), { kind: "live" });
    } finally {
      await a.log.close();
      await late?.log.close();
      await deleteQueue(stream);
    }
  });

  test("malformed, foreign and recreated-stream ids give a gap", async () => {
    const stream = uniqueName("stream");
    let a = await startInstance(stream);
    try {
      const { id } = await a.log.append(record(1));
      await a.log.append(record(2));
      assert.deepEqual(await a.log.resume("42"), {
        kind: "gap",
        reason: "malformed",
      });
      assert.deepEqual(await a.log.resume("zzzz-1"), {
        kind: "gap",
        reason: "unknown",
      });
      assert.equal((await a.log.resume(id)).kind, "replay");
      await a.log.close();
      await deleteQueue(stream);
      a = await startInstance(stream);
      await a.log.append(record(3));
      await a.log.append(record(4));
      assert.deepEqual(await a.log.resume(id), {
        kind: "gap",
        reason: "unknown",
      });
    } finally {
      await a.log.close();
      await deleteQueue(stream);
    }
  });

  test("a resume further back than the replay bound gets gap expired, without reading the stream", async () => {
    const stream = uniqueName("stream");
    const a = await startInstance(stream, { maxReplayOffsets: 10 });
    try {
      const ids: string[] = [];
      for (let n = 1; n <= 15; n++) {
        ids.push((await a.log.append(record(n))).id);
      }
      assert.deepEqual(await a.log.resume(ids[0]), {
        kind: "gap",
        reason: "expired",
      });
      assert.equal((await a.log.resume(ids[10])).kind, "replay");
      assert.equal(a.log.clusterStats().stream_reads, 0);
    } finally {
      await a.log.close();
      await deleteQueue(stream);
    }
  });

  test("a stream deleted under running instances: the one that attaches last still delivers what the first appended meanwhile, after a gap", async () => {
    const stream = uniqueName("stream");
    // The late instance reaches the broker through a proxy the test closes
    // while the early one appends to the new stream.
    const port = await freePort();
    let proxy = await startBrokerProxy(port);
    const early = await startInstance(stream, { reconnectDelayMs: 50 });
    const late = await startInstance(stream, {
      reconnectDelayMs: 200,
      url: `amqp://guest:guest@127.0.0.1:${port}`,
    });
    try {
      while (!late.log.clusterStats().attached) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await early.log.append(record(1));
      await proxy.close();
      await deleteQueue(stream);
      const fresh: string[] = [];
      const deadline = Date.now() + 60_000;
      for (let n = 2; n <= 4; n++) {
        for (;;) {
          try {
            fresh.push((await early.log.append(record(n))).id);
            break;
          } catch (error) {
            if (Date.now() > deadline) throw error;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      }
      assert.equal(late.log.clusterStats().attached, false);
      proxy = await startBrokerProxy(port);
      // Its backoff grew while the proxy was closed: it may wait a while.
      const epoch = fresh[0].split("-")[0];
      // Under load its first attach may end after the old stream's event.
      const ofNewStream = () =>
        late.delivered.filter((e) => e.id.startsWith(`${epoch}-`));
      const until = Date.now() + 90_000;
      while (ofNewStream().length < 3 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(ofNewStream().map((e) => e.id), fresh);
      assert.deepEqual(late.gaps, [`unknown ${epoch}-0`]);
      assert.deepEqual(early.gaps, [`unknown ${epoch}-0`]);
    } finally {
      await early.log.close();
      await late.log.close();
      await proxy.close();
      await deleteQueue(stream).catch(() => {});
    }
  });

  test("an input redelivered 31 s after its first append (past any time window) becomes no second event", async () => {
    const stream = uniqueName("stream");
    const a = await startInstance(stream);
    try {
      const keyed = { ...record(1), key: "mq/order-1/feed" };
      const first = await a.log.append(keyed);
      await new Promise((r) => setTimeout(r, 31_000));
      const again = await a.log.append(keyed);
      assert.deepEqual(again, { id: first.id, delivered: 0 });
      await a.log.append(record(2));
      assert.deepEqual(a.delivered.map((e) => text([e.frame])), [
        `id: ${first.id}\nevent: message\ndata: {"n":1}\n\n`,
        `id: ${a.delivered[1].id}\nevent: message\ndata: {"n":2}\n\n`,
      ]);
    } finally {
      await a.log.close();
      await deleteQueue(stream);
    }
  });

  test("a duplicate that reached the stream is dropped alike by running instances, one started after it, and their replays", async () => {
    const stream = uniqueName("stream");
    const a = await startInstance(stream);
    const b = await startInstance(stream);
    let late: Instance | undefined;
    const client = new AMQPClient(RABBITMQ_URL, undefined, null);
    await client.connect();
    try {
      const keyed = { ...record(1), key: "mq/order-1/feed" };
      const first = await a.log.append(keyed);
      for (let n = 2; n <= 4; n++) await b.log.append(record(n));
      // As two instances appending the same input at once would leave it.
      const channel = await client.channel();
      await channel.confirmSelect();
      const epoch = first.id.split("-")[0];
      await channel.basicPublish("", stream, encodeEventRecord(epoch, keyed));
      const last = await b.log.append(record(5));
      late = await startInstance(stream, { cacheSize: 2 });
      const numbersOf = (events: readonly LoggedEvent[]) =>
        events.map((e) => text([e.frame]).match(/"n":(\d+)/)![1]).join(",");
      for (const instance of [a, b]) {
        const until = Date.now() + 10_000;
        while (instance.delivered.length < 5 && Date.now() < until) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(numbersOf(instance.delivered), "1,2,3,4,5");
        assert.equal(instance.delivered[4].id, last.id);
      }
      for (const instance of [a, b, late]) {
        const start = await instance.log.resume(first.id);
        assert.equal(start.kind, "replay");
        if (start.kind !== "replay") continue;
        const { frames } = await readAll(instance.log, start.after, 64);
        assert.equal(
          text(frames).match(/"n":\d+/g)!.join(","),
          '"n":2,"n":3,"n":4,"n":5',
        );
      }
    } finally {
      await client.close();
      await a.log.close();
      await b.log.close();
      await late?.log.close();
      await deleteQueue(stream);
    }
  });

  test("a queue of another kind under the stream's name is an error that says so", async () => {
    const name = uniqueName("classic");
    const client = new AMQPClient(RABBITMQ_URL, undefined, null);
    await client.connect();
    const channel = await client.channel();
    await channel.queueDeclare(name, { durable: true });
    try {
      await assert.rejects(
        startInstance(name),
        /queue "hypha-test-classic-\w+" exists and is not a stream/,
      );
    } finally {
      await channel.queueDelete(name);
      await client.close();
    }
  });
});
