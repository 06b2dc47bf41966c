/**
 * The cost bound of a CEL evaluation (src/core/flows/cel_budget.ts): macros visit
 * at most MAX_CEL_STEPS elements, a result holds a bounded number of values
 * and characters, and what a step does not count stops at a time bound.
 * A stopped evaluation is a refusal with a reason, never a throw.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compileCel } from "../src/core/flows/cel.ts";
import {
  MAX_CEL_MILLISECONDS,
  MAX_CEL_RESULT_CHARS,
  MAX_CEL_RESULT_VALUES,
  MAX_CEL_STEPS,
} from "../src/core/flows/cel_budget.ts";
import { compileFlow, sendThrough } from "../src/core/flows/flows.ts";
import { hubTarget } from "../src/core/flows/target.ts";
import { testHub } from "./support/hub.ts";

const tags = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);
const run = (text: string, input: Record<string, unknown>) =>
  compileCel(text).run({ input, meta: {} });

describe("CEL cost bound", () => {
  test("a nested comprehension over 10,000 tags is stopped by the step bound", () => {
    const outcome = run(
      "input.tags.filter(t, input.tags.exists(u, u == t + '!')).size() == 0",
      { tags: tags(10_000) },
    );
    assert.deepEqual(outcome, {
      ok: false,
      reason:
        `evaluation stopped: its macros visit more than ${MAX_CEL_STEPS} elements (nested macros multiply)`,
      limit: true,
    });
  });

  test("map over 5,000 items (the bound) gives the whole list, flat: a chained one overflowed the stack", () => {
    const outcome = run("input.items.map(x, x + 1.0)", {
      items: Array.from({ length: MAX_CEL_STEPS }, (_, i) => i),
    });
    assert.equal(outcome.ok, true);
    const value = (outcome as { value: number[] }).value;
    assert.equal(value.length, MAX_CEL_STEPS);
    assert.deepEqual(value.slice(0, 3), [1, 2, 3]);
    assert.equal(value[MAX_CEL_STEPS - 1], MAX_CEL_STEPS);
  });

  test("map over 10,000 items is refused by the step bound, not thrown (a RangeError on Deno)", () => {
    const outcome = run("input.items.map(x, x)", {
      items: tags(10_000),
    });
    assert.equal(outcome.ok, false);
    assert.equal((outcome as { limit?: true }).limit, true);
  });

  test("each run of a macro builds its own list: filter and map nest and repeat", () => {
    const program = compileCel(
      "input.a.filter(x, int(x) % 2 == 0).map(x, input.b.map(y, x * 10.0 + y))",
    );
    const first = program.run({
      input: { a: [1, 2, 3, 4], b: [1, 2] },
      meta: {},
    });
    const second = program.run({ input: { a: [6], b: [5] }, meta: {} });
    assert.deepEqual(first, { ok: true, value: [[21, 22], [41, 42]] });
    assert.deepEqual(second, { ok: true, value: [[65]] });
  });

  test("a result that fans out beyond the value bound is refused", () => {
    const outcome = run("input.tags.map(t, input.tags)", { tags: tags(1_000) });
    assert.deepEqual(outcome, {
      ok: false,
      reason:
        `evaluation stopped: its result holds more than ${MAX_CEL_RESULT_VALUES} values`,
      limit: true,
    });
  });

  test("a result holding more characters than the bound is refused", () => {
    const outcome = run("input.tags.map(t, input.big)", {
      tags: tags(20),
      big: "x".repeat(1024 * 1024),
    });
    assert.deepEqual(outcome, {
      ok: false,
      reason:
        `evaluation stopped: its result holds more than ${MAX_CEL_RESULT_CHARS} characters of strings`,
      limit: true,
    });
  });

  test("work a step does not count (a list scan per element) stops at the time bound", () => {
    // 4,000 steps (within the bound), each scanning 200,000 items.
    const outcome = run("input.tags.filter(t, t in input.pool).size()", {
      tags: tags(4_000),
      pool: Array.from({ length: 200_000 }, () => "x"),
    });
    assert.deepEqual(outcome, {
      ok: false,
      reason: `evaluation stopped after ${MAX_CEL_MILLISECONDS} ms`,
      limit: true,
    });
  });

  test("an expression that absorbs the stop (`|| true`) is still refused", () => {
    const outcome = run(
      "input.tags.exists(t, input.tags.exists(u, u == t + '!')) || true",
      { tags: tags(1_000) },
    );
    assert.equal(outcome.ok, false);
    assert.equal((outcome as { limit?: true }).limit, true);
  });

  test("a flow whose filter is stopped refuses the message as cel_limit", () => {
    const hub = testHub();
    const flow = compileFlow({
      name: "tags",
      to: hubTarget(hub, "broadcast"),
      filter: "input.tags.all(t, input.tags.exists(u, u == t))",
    });
    const outcome = sendThrough([flow], {
      input: { tags: tags(200) },
      meta: {},
    }, "POST /tags");
    assert.deepEqual(outcome, {
      ok: false,
      code: "cel_limit",
      reason:
        `flow tags: filter: evaluation stopped: its macros visit more than ${MAX_CEL_STEPS} elements (nested macros multiply)`,
    });
    hub.close(0);
  });
});
