import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EVERYONE } from "../src/core/audience.ts";
import { createHistory } from "../src/core/history.ts";

const frame = (bytes: number) => new Uint8Array(bytes);
const event = (id: number, bytes = 10, at = 0) => ({
  id,
  audience: EVERYONE,
  frame: frame(bytes),
  at,
});

describe("history", () => {
  test("keeps at most `size` events, evicting the oldest", () => {
    const h = createHistory({ size: 3, maxBytes: 1 << 20, ttlMs: 60_000 });
    for (let id = 1; id <= 5; id++) h.append(event(id));
    assert.equal(h.length, 3);
    assert.equal(h.at(0)?.id, 3);
    assert.equal(h.lastEvictedId, 2);
  });

  test("keeps at most `maxBytes` bytes", () => {
    const h = createHistory({ size: 100, maxBytes: 25, ttlMs: 60_000 });
    for (let id = 1; id <= 5; id++) h.append(event(id, 10));
    assert.equal(h.length, 2);
    assert.equal(h.bytes, 20);
  });

  test("expire drops events older than the ttl", () => {
    const h = createHistory({ size: 100, maxBytes: 1 << 20, ttlMs: 1000 });
    h.append(event(1, 10, 0));
    h.append(event(2, 10, 500));
    h.append(event(3, 10, 1500));
    h.expire(1400);
    assert.deepEqual([h.at(0)?.id, h.at(1)?.id], [2, 3]);
  });

  test("resumeAfter finds the position after a stored id", () => {
    const h = createHistory({ size: 3, maxBytes: 1 << 20, ttlMs: 60_000 });
    for (const id of [10, 20, 30, 40]) h.append(event(id));
    assert.deepEqual(
      h.resumeAfter(10),
      { ok: true, index: 0 },
      "the newest evicted id resumes at the start",
    );
    assert.deepEqual(h.resumeAfter(20), { ok: true, index: 1 });
    assert.deepEqual(h.resumeAfter(40), { ok: true, index: 3 });
    assert.deepEqual(h.resumeAfter(5), { ok: false, reason: "expired" });
    assert.deepEqual(h.resumeAfter(35), { ok: false, reason: "unknown" });
  });

  test("a history of size 0 stores nothing but remembers the newest id", () => {
    const h = createHistory({ size: 0, maxBytes: 1 << 20, ttlMs: 60_000 });
    h.append(event(7));
    assert.equal(h.length, 0);
    assert.deepEqual(h.resumeAfter(7), { ok: true, index: 0 });
  });

  test("stays correct across many evictions (the deque compacts)", () => {
    const h = createHistory({ size: 100, maxBytes: 1 << 30, ttlMs: 60_000 });
    for (let id = 1; id <= 10_000; id++) h.append(event(id));
    assert.equal(h.length, 100);
    assert.equal(h.at(0)?.id, 9901);
    assert.equal(h.indexAfter(9950), 50);
  });
});
