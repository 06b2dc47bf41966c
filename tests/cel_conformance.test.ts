import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { describe, test } from "node:test";
import { compileCel } from "../src/core/flows/cel.ts";
import {
  type ConformanceCase,
  conformanceCases,
} from "./support/cel_conformance.ts";

/** What hypha's wrapper makes of a case: a JSON value, an error, or a refusal. */
function outcome(c: ConformanceCase): unknown {
  let program;
  try {
    program = compileCel(c.expr);
  } catch (error) {
    return { refused: (error as Error).message };
  }
  const result = program.run({ input: {}, meta: {} });
  return result.ok ? { value: result.value } : { error: true };
}

describe("CEL conformance data (cel-spec) through hypha's CEL wrapper", () => {
  const suites = conformanceCases();

  test("covers the suites flows rely on", () => {
    const names = suites.map((s) => s.suite);
    for (
      const wanted of [
        "string/size",
        "string_ext/char_at",
        "integer_math/int64_math",
        "fp_math/fp_math",
        "comparisons/eq_literal",
        "logic/conditional",
        "fields/map_has",
        "macros/exists",
        "lists/size",
      ]
    ) assert.ok(names.includes(wanted), `${wanted} in ${names.join(", ")}`);
    const total = suites.reduce((n, s) => n + s.cases.length, 0);
    assert.ok(total > 1000, `${total} cases`);
  });

  for (const { suite, cases } of suites) {
    test(`${suite}: ${cases.length} cases give the expected value or error`, () => {
      const failures = cases.flatMap((c) => {
        const got = outcome(c);
        const ok = "error" in c.expected
          ? typeof got === "object" && got !== null && !("value" in got)
          : isDeepStrictEqual(got, c.expected);
        return ok ? [] : [
          `${c.name}: ${c.expr} expected ${JSON.stringify(c.expected)}, got ${
            JSON.stringify(got)
          }`,
        ];
      });
      assert.deepEqual(failures, []);
    });
  }
});
