import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createTimeouts } from "../src/core/http/timeouts.ts";

/**
 * The clock that decides what is due moves by hand; the timer fires for
 * real. A key is due only once the clock passed its deadline, so what fires
 * does not depend on how late the timer runs.
 */
function harness(ms: number, also?: (key: string) => void) {
  let at = 0;
  const fired: string[] = [];
  const timeouts = createTimeouts<string>(ms, (key) => {
    fired.push(key);
    also?.(key);
  }, () => at);
  const advance = (by: number) => at += by;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** What fired once `n` keys have (waits up to 3 s). */
  const firedCount = async (n: number) => {
    for (let i = 0; i < 300 && fired.length < n; i++) await sleep(10);
    return fired;
  };
  /** What fired after a few more turns of the real timer. */
  const settled = async () => {
    await sleep(3 * ms);
    return fired;
  };
  return { timeouts, advance, firedCount, settled };
}

describe("timeouts of one length on one timer", () => {
  test("keys time out in the order set; cleared keys never do", async () => {
    const { timeouts, advance, firedCount } = harness(20);
    timeouts.set("a");
    advance(5);
    timeouts.set("b");
    timeouts.set("c");
    timeouts.clear("b");
    timeouts.clear("b");
    advance(20);
    assert.deepEqual(await firedCount(2), ["a", "c"]);
  });

  test("setting a key again restarts its timeout", async () => {
    const { timeouts, advance, firedCount, settled } = harness(20);
    timeouts.set("a");
    timeouts.set("b");
    advance(15);
    timeouts.set("a");
    advance(5);
    // b is due; a was restarted 5 ms ago on the clock, so it is not.
    assert.deepEqual(await firedCount(1), ["b"]);
    assert.deepEqual(await settled(), ["b"]);
    advance(15);
    assert.deepEqual(await firedCount(2), ["b", "a"]);
  });

  test("a key set while others time out gets its own full timeout", async () => {
    const { timeouts, advance, firedCount, settled } = harness(
      20,
      (key) => key === "a" && timeouts.set("again"),
    );
    timeouts.set("a");
    advance(20);
    assert.deepEqual(await firedCount(1), ["a"]);
    assert.deepEqual(await settled(), ["a"]);
    advance(20);
    assert.deepEqual(await firedCount(2), ["a", "again"]);
  });

  test("close cancels every timeout; clearing the last key keeps the timer, which then just stops", async () => {
    const { timeouts, advance, settled } = harness(20);
    timeouts.set("a");
    timeouts.clear("a");
    timeouts.set("b");
    timeouts.close();
    advance(40);
    assert.deepEqual(await settled(), []);
  });
});
