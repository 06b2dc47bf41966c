import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { EVERYONE } from "../src/core/history/audience.ts";
import type { SubscribeRequest } from "../src/core/hub/hub.ts";
import { delivered, HUB_DEFAULTS, testHub } from "./support/hub.ts";

const options = HUB_DEFAULTS;

/** Reads a hub stream in the background and parses what arrives. */
function reader(stream: ReadableStream<Uint8Array>) {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  const decoder = new TextDecoder();
  const done = (async () => {
    for await (const chunk of stream) {
      parser.feed(decoder.decode(chunk, { stream: true }));
    }
  })().catch(() => {});
  const settle = () => new Promise((r) => setTimeout(r, 10));
  return { events, done, settle };
}

const subscription = (
  extra: Partial<SubscribeRequest> = {},
): SubscribeRequest => ({
  rooms: new Set<string>(),
  userId: undefined,
  ...extra,
});

describe("hub", () => {
  test("a subscriber of room orders does not receive inventory events", async () => {
    const hub = testHub(options);
    const orders = reader(
      hub.subscribe(subscription({ rooms: new Set(["orders"]) })).stream,
    );
    assert.equal(
      delivered(
        hub.publish({ kind: "room", names: ["inventory"] }, "message", "1"),
      ),
      0,
    );
    assert.equal(
      delivered(
        hub.publish({ kind: "room", names: ["orders"] }, "message", "2"),
      ),
      1,
    );
    await orders.settle();
    assert.deepEqual(orders.events.map((e) => e.data), ["2"]);
    hub.close(0);
  });

  test("an event for several rooms reaches a connection in more than one of them once, live and on resume", async () => {
    const hub = testHub(options);
    const both = reader(
      hub.subscribe(subscription({ rooms: new Set(["a", "b"]) })).stream,
    );
    const onlyB = reader(
      hub.subscribe(subscription({ rooms: new Set(["b"]) })).stream,
    );
    const neither = reader(
      hub.subscribe(subscription({ rooms: new Set(["c"]) })).stream,
    );
    hub.publish(EVERYONE, "message", "mark");
    await both.settle();
    assert.equal(
      delivered(
        hub.publish({ kind: "room", names: ["a", "b"] }, "message", "ab"),
      ),
      2,
    );
    await both.settle();
    assert.deepEqual(both.events.map((e) => e.data), ["mark", "ab"]);
    assert.deepEqual(onlyB.events.map((e) => e.data), ["mark", "ab"]);
    assert.deepEqual(neither.events.map((e) => e.data), ["mark"]);
    const resumed = reader(
      hub.subscribe(
        subscription({
          rooms: new Set(["a", "b"]),
          lastEventId: both.events[0].id,
        }),
      ).stream,
    );
    await resumed.settle();
    assert.deepEqual(resumed.events.map((e) => e.data), ["ab"]);
    hub.close(0);
  });

  test("ids increase strictly even when the clock stands still or goes back", async () => {
    let t = 1_000_000;
    const hub = testHub({ ...options, now: () => t });
    const r = reader(hub.subscribe(subscription()).stream);
    for (const step of [0, 0, -5, 0, 10]) {
      t += step;
      hub.publish(EVERYONE, "message", "x");
    }
    await r.settle();
    const ids = r.events.map((e) => BigInt(e.id!));
    assert.equal(ids.length, 5);
    for (let i = 1; i < ids.length; i++) {
      assert.ok(ids[i] > ids[i - 1], `${ids[i]} > ${ids[i - 1]}`);
    }
    hub.close(0);
  });

  test("a resume replays exactly the missed events of the subscriber's rooms and user, in order", async () => {
    const hub = testHub(options);
    const first = reader(hub.subscribe(subscription()).stream);
    hub.publish(EVERYONE, "message", "start");
    await first.settle();
    const lastId = first.events[0].id!;
    const audiences = [
      EVERYONE,
      { kind: "room", names: ["a"] },
      { kind: "room", names: ["b"] },
      { kind: "user", names: ["u1"] },
      { kind: "user", names: ["u2"] },
    ] as const;
    const expected: string[] = [];
    for (let i = 0; i < 50; i++) {
      const audience = audiences[i % audiences.length];
      hub.publish(audience, "message", String(i));
      if (
        audience.kind === "all" ||
        (audience.kind === "room" && audience.names[0] === "a") ||
        (audience.kind === "user" && audience.names[0] === "u1")
      ) {
        expected.push(String(i));
      }
    }
    const resumed = reader(
      hub.subscribe(
        subscription({
          rooms: new Set(["a"]),
          userId: "u1",
          lastEventId: lastId,
        }),
      ).stream,
    );
    hub.publish({ kind: "room", names: ["a"] }, "message", "live");
    await resumed.settle();
    assert.deepEqual(resumed.events.map((e) => e.data), [...expected, "live"]);
    hub.close(0);
  });

  test("a resume from an evicted id starts with a gap event that says why and where the stream continues", async () => {
    const hub = testHub({
      ...options,
      history: { size: 2, maxBytes: 1 << 20, ttlMs: 60_000 },
      gapEvent: "resync",
    });
    const probe = reader(hub.subscribe(subscription()).stream);
    for (let i = 0; i < 5; i++) hub.publish(EVERYONE, "message", String(i));
    await probe.settle();
    const resumed = reader(
      hub.subscribe(subscription({ lastEventId: probe.events[0].id })).stream,
    );
    hub.publish(EVERYONE, "message", "live");
    await resumed.settle();
    assert.equal(resumed.events[0].event, "resync");
    assert.deepEqual(JSON.parse(resumed.events[0].data), {
      reason: "expired",
      last_event_id: probe.events[0].id,
      resume_from: probe.events[4].id,
    });
    assert.equal(resumed.events[0].id, probe.events[4].id);
    assert.deepEqual(resumed.events.slice(1).map((e) => e.data), ["live"]);
    hub.close(0);
  });

  for (
    const [lastEventId, reason] of [
      ["abc", "malformed"],
      ["99999999999999999999", "malformed"],
      ["1", "restart"],
      [String(Date.now() * 1000 + 9e9), "unknown"],
    ]
  ) {
    test(`a Last-Event-ID of ${lastEventId} gets a gap event with reason ${reason}`, async () => {
      const hub = testHub(options);
      hub.publish(EVERYONE, "message", "before");
      const r = reader(hub.subscribe(subscription({ lastEventId })).stream);
      await r.settle();
      assert.equal(r.events[0].event, "gap");
      assert.equal(JSON.parse(r.events[0].data).reason, reason);
      hub.close(0);
    });
  }

  test("a subscriber that does not read is disconnected when its queue passes max_buffered", async () => {
    const hub = testHub({ ...options, maxBufferedBytes: 64 * 1024 });
    const stalled = hub.subscribe(subscription());
    const reading = reader(hub.subscribe(subscription()).stream);
    const chunk = "x".repeat(16 * 1024);
    for (let i = 0; i < 10; i++) {
      hub.publish(EVERYONE, "message", chunk);
      await reading.settle();
    }
    assert.equal(hub.stats().closed.slow, 1);
    assert.equal(hub.size, 1);
    assert.equal(reading.events.length, 10);
    await assert.rejects(stalled.stream.getReader().read());
    hub.close(0);
  });

  test("a slow subscriber that was cut resumes from history when it reconnects", async () => {
    const hub = testHub({ ...options, maxBufferedBytes: 64 * 1024 });
    const slow = hub.subscribe(subscription());
    const stalled = slow.stream.getReader();
    hub.publish(EVERYONE, "message", "first");
    await new Promise((r) => setTimeout(r, 10));
    const parsed: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (e) => parsed.push(e) });
    for (let i = 0; i < 2; i++) {
      parser.feed(new TextDecoder().decode((await stalled.read()).value));
    }
    assert.equal(parsed[0].data, "first");
    const chunk = "x".repeat(16 * 1024);
    for (let i = 0; i < 10; i++) {
      hub.publish(EVERYONE, "message", `${i}${chunk}`);
    }
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(hub.stats().closed.slow, 1);
    const back = reader(
      hub.subscribe(subscription({ lastEventId: parsed[0].id })).stream,
    );
    await back.settle();
    assert.deepEqual(back.events.map((e) => e.data[0]), [
      "0",
      "1",
      "2",
      "3",
      "4",
      "5",
      "6",
      "7",
      "8",
      "9",
    ]);
    hub.close(0);
  });

  test("small events published in one loop turn reach a client as one chunk", async () => {
    const hub = testHub(options);
    const s = hub.subscribe(subscription());
    const r = s.stream.getReader();
    await r.read(); // retry: at connect
    for (let i = 0; i < 5; i++) hub.publish(EVERYONE, "message", String(i));
    const { value } = await r.read();
    const text = new TextDecoder().decode(value);
    assert.equal(text.match(/^data: /gm)?.length, 5);
    hub.close(0);
  });

  test("clients that got the same small events in one turn share one joined chunk; a client with other events gets its own", async () => {
    const hub = testHub(options);
    const readers = [
      hub.subscribe(subscription()),
      hub.subscribe(subscription()),
      hub.subscribe(subscription({ rooms: new Set(["r"]) })),
    ].map((s) => s.stream.getReader());
    for (const r of readers) await r.read(); // retry: at connect
    hub.publish(EVERYONE, "message", "a");
    hub.publish({ kind: "room", names: ["r"] }, "message", "only r");
    hub.publish(EVERYONE, "message", "b");
    const [one, two, inRoom] = await Promise.all(
      readers.map(async (r) => (await r.read()).value!),
    );
    const data = (chunk: Uint8Array) =>
      [...new TextDecoder().decode(chunk).matchAll(/^data: (.*)$/gm)].map(
        (m) => m[1],
      );
    assert.deepEqual(data(one), ["a", "b"]);
    assert.equal(one, two, "one copy for both");
    assert.deepEqual(data(inRoom), ["a", "only r", "b"]);
    hub.close(0);
  });

  test("a large event is queued to every client as the same buffer, never copied", async () => {
    const hub = testHub(options);
    const readers = [
      hub.subscribe(subscription()),
      hub.subscribe(subscription()),
    ].map((s) => s.stream.getReader());
    for (const r of readers) await r.read();
    hub.publish(EVERYONE, "message", "small");
    hub.publish(EVERYONE, "message", "x".repeat(8 * 1024));
    const chunks = await Promise.all(
      readers.map(async (
        r,
      ) => [(await r.read()).value, (await r.read()).value]),
    );
    assert.match(new TextDecoder().decode(chunks[0][0]), /data: small/);
    assert.equal(chunks[0][1], chunks[1][1], "both clients hold one buffer");
    hub.close(0);
  });

  test("close sends each subscriber a retry within the spread, then ends the stream", async () => {
    const hub = testHub(options);
    const chunks: string[] = [];
    const s = hub.subscribe(subscription());
    const done = (async () => {
      for await (const c of s.stream) chunks.push(new TextDecoder().decode(c));
    })();
    hub.close(5000);
    await done;
    const retries = chunks.join("").match(/retry: (\d+)\n\n/g) ?? [];
    assert.equal(retries.length, 2, "one at connect, one at close");
    assert.ok(Number(/\d+/.exec(retries[1])![0]) < 5000);
    assert.equal(hub.stats().closed.shutdown, 1);
  });
});

describe("hub: history moving past a slow replay", () => {
  test("a resume that reads slowly while history is evicted gets the events it could, then a gap expired, then live", async () => {
    const hub = testHub({
      history: { size: 5, maxBytes: 1 << 20, ttlMs: 60_000 },
      maxBufferedBytes: 100,
    });
    const probe = reader(hub.subscribe(subscription()).stream);
    for (let i = 0; i < 5; i++) hub.publish(EVERYONE, "message", `old${i}`);
    await probe.settle();
    const resume = hub.subscribe(subscription({
      lastEventId: probe.events[0].id,
    })).stream.getReader();
    // The first chunk of the replay is queued; the client reads no further.
    await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 10; i++) hub.publish(EVERYONE, "message", `new${i}`);
    const parsed: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (e) => parsed.push(e) });
    const done = (async () => {
      for (;;) {
        const { value, done } = await resume.read();
        if (done) return;
        parser.feed(new TextDecoder().decode(value));
      }
    })();
    await new Promise((r) => setTimeout(r, 20));
    hub.publish(EVERYONE, "message", "live");
    await new Promise((r) => setTimeout(r, 20));
    hub.close(0);
    await done;
    const gapAt = parsed.findIndex((e) => e.event === "gap");
    assert.ok(gapAt > 0, "some missed events came before the gap");
    assert.deepEqual(
      parsed.slice(0, gapAt).map((e) => e.data),
      ["old1", "old2", "old3", "old4"].slice(0, gapAt),
    );
    assert.equal(JSON.parse(parsed[gapAt].data).reason, "expired");
    // It says where the stream goes on: the newest event when it was sent.
    const newest = probe.events.find((e) => e.data === "new9")!;
    assert.equal(parsed[gapAt].id, newest.id);
    assert.equal(JSON.parse(parsed[gapAt].data).resume_from, newest.id);
    assert.deepEqual(parsed.slice(gapAt + 1).map((e) => e.data), ["live"]);
    assert.equal(hub.stats().gaps, 1);
  });
});
