import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EVERYONE } from "../src/core/history/audience.ts";
import { createHistory } from "../src/core/history/history.ts";

const frame = (bytes: number) => new Uint8Array(bytes);
const event = (position: number, bytes = 10, at = 0) => ({
  position,
  audience: EVERYONE,
  frame: frame(bytes),
  at,
});

describe("history", () => {
  test("keeps at most `size` events, evicting the oldest", () => {
    const h = createHistory({ size: 3, maxBytes: 1 << 20, ttlMs: 60_000 });
    for (let id = 1; id <= 5; id++) h.append(event(id));
    assert.equal(h.length, 3);
    assert.equal(h.at(0)?.position, 3);
    assert.equal(h.lastEvictedPosition, 2);
  });

  test("keeps at most `maxBytes` bytes", () => {
    const h = createHistory({ size: 100, maxBytes: 25, ttlMs: 60_000 });
    for (let id = 1; id <= 5; id++) h.append(event(id, 10));
    assert.equal(h.length, 2);
    assert.equal(h.bytes, 20);
  });

  test("bytes count what an event's audience pins, and max_bytes evicts by it", () => {
    const h = createHistory({ size: 100, maxBytes: 10_000, ttlMs: 60_000 });
    const names = Array.from(
      { length: 40 },
      (_, i) => `${i}`.padStart(64, "r"),
    );
    const room = (position: number) => ({
      ...event(position, 10),
      audience: { kind: "room" as const, names },
    });
    h.append(room(1));
    assert.ok(h.bytes >= 10 + 40 * 64, `${h.bytes} bytes held`);
    for (let id = 2; id <= 10; id++) h.append(room(id));
    assert.ok(h.bytes <= 10_000, `${h.bytes} bytes held`);
    assert.ok(h.length < 10, `${h.length} events held`);
    h.expire(Infinity);
    assert.equal(h.bytes, 0);
  });

  test("expire drops events older than the ttl", () => {
    const h = createHistory({ size: 100, maxBytes: 1 << 20, ttlMs: 1000 });
    h.append(event(1, 10, 0));
    h.append(event(2, 10, 500));
    h.append(event(3, 10, 1500));
    h.expire(1400);
    assert.deepEqual([h.at(0)?.position, h.at(1)?.position], [2, 3]);
  });

  test("find says whether everything after a position is still held", () => {
    const h = createHistory({ size: 3, maxBytes: 1 << 20, ttlMs: 60_000 });
    for (const position of [10, 20, 30, 40]) h.append(event(position));
    assert.equal(
      h.find(10),
      true,
      "the newest evicted position resumes at the start",
    );
    assert.equal(h.indexAfter(10), 0);
    assert.equal(h.find(20), true);
    assert.equal(h.indexAfter(20), 1);
    assert.equal(h.find(40), true);
    assert.equal(h.indexAfter(40), 3);
    assert.equal(h.find(5), "expired");
    assert.equal(h.find(35), "unknown");
  });

  test("a history of size 0 stores nothing but remembers the newest id", () => {
    const h = createHistory({ size: 0, maxBytes: 1 << 20, ttlMs: 60_000 });
    h.append(event(7));
    assert.equal(h.length, 0);
    assert.equal(h.find(7), true);
    assert.equal(h.indexAfter(7), 0);
  });

  test("stays correct across many evictions (the deque compacts)", () => {
    const h = createHistory({ size: 100, maxBytes: 1 << 30, ttlMs: 60_000 });
    for (let id = 1; id <= 10_000; id++) h.append(event(id));
    assert.equal(h.length, 100);
    assert.equal(h.at(0)?.position, 9901);
    assert.equal(h.indexAfter(9950), 50);
  });
});
