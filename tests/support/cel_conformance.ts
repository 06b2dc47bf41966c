/**
 * The official CEL conformance data (@bufbuild/cel-spec) as cases for
 * hypha's CEL wrapper: the suites that cover what flows expose (literals,
 * arithmetic, comparisons, logic, has(), size, macros, strings), without
 * the cases that need variables other than input/meta or protobuf types.
 */

import { getConformanceSuite } from "@bufbuild/cel-spec/testdata/tests.js";
import type { Value } from "@bufbuild/cel-spec/cel/expr/value_pb.js";

/** One case: the expression and what it must give (JSON), or an error. */
export interface ConformanceCase {
  readonly name: string;
  readonly expr: string;
  readonly expected: { value: unknown } | { error: true };
}

/** Suites (and their sub-suites; all when omitted) that flows rely on. */
export const COVERED: Record<string, readonly string[] | undefined> = {
  basic: ["self_eval_zeroish", "self_eval_nonzeroish", "reserved_const"],
  comparisons: undefined,
  conversions: ["bool", "bytes", "double", "dyn", "int", "string", "uint"],
  fields: ["map_fields", "map_has", "in"],
  fp_math: undefined,
  integer_math: undefined,
  lists: undefined,
  logic: undefined,
  macros: undefined,
  parse: undefined,
  string: undefined,
  string_ext: undefined,
};

/** Sub-suites left out, and why (README: "CEL in flows"). */
export const LEFT_OUT: Record<string, string> = {
  "fields/quoted_map_fields":
    "backtick-quoted field names (CEL v0.24) are not parsed by @bufbuild/cel 0.6.1; use m['a-b']",
  "parse/receiver_function_names":
    "calls undeclared functions on an undeclared variable; hypha refuses both at start",
};

// Cases that name protobuf message types or wrappers: flows have none.
const PROTO = /google\.protobuf|TestAllTypes|NestedTestAllTypes|cel\.expr/;

/** The covered cases that flows can express. */
export function conformanceCases(): {
  suite: string;
  cases: ConformanceCase[];
}[] {
  const root = getConformanceSuite();
  const out: { suite: string; cases: ConformanceCase[] }[] = [];
  for (const file of root.suites) {
    if (!(file.name in COVERED)) continue;
    const wanted = COVERED[file.name];
    for (const section of file.suites) {
      if (wanted !== undefined && !wanted.includes(section.name)) continue;
      if (`${file.name}/${section.name}` in LEFT_OUT) continue;
      const cases: ConformanceCase[] = [];
      for (const test of section.tests) {
        const t = test.original;
        if (
          t.typeEnv.length > 0 || Object.keys(t.bindings).length > 0 ||
          t.container !== "" || t.disableMacros || t.checkOnly ||
          PROTO.test(t.expr)
        ) continue;
        const matcher = t.resultMatcher;
        let expected: ConformanceCase["expected"];
        if (matcher.case === "value") {
          const value = valueToJson(matcher.value);
          if (value === UNSUPPORTED) continue;
          expected = { value };
        } else if (
          matcher.case === "evalError" || matcher.case === "anyEvalErrors"
        ) {
          expected = { error: true };
        } else if (matcher.case === undefined) {
          expected = { value: true };
        } else continue;
        cases.push({ name: test.name, expr: t.expr, expected });
      }
      if (cases.length > 0) {
        out.push({ suite: `${file.name}/${section.name}`, cases });
      }
    }
  }
  return out;
}

const UNSUPPORTED = Symbol("unsupported");

/** An expected cel.expr.Value as the JSON hypha would send. */
function valueToJson(value: Value): unknown {
  const kind = value.kind;
  switch (kind.case) {
    case "nullValue":
      return null;
    case "boolValue":
    case "stringValue":
    case "doubleValue":
      return kind.value;
    case "int64Value":
    case "uint64Value":
      return Number(kind.value);
    case "bytesValue":
      return btoa(String.fromCharCode(...kind.value));
    case "typeValue":
      return kind.value;
    case "listValue": {
      const items = kind.value.values.map(valueToJson);
      return items.includes(UNSUPPORTED) ? UNSUPPORTED : items;
    }
    case "mapValue": {
      const object: Record<string, unknown> = {};
      for (const entry of kind.value.entries) {
        if (entry.key === undefined || entry.value === undefined) {
          return UNSUPPORTED;
        }
        const key = valueToJson(entry.key);
        const item = valueToJson(entry.value);
        if (key === UNSUPPORTED || item === UNSUPPORTED) return UNSUPPORTED;
        object[String(key)] = item;
      }
      return object;
    }
    default:
      return UNSUPPORTED;
  }
}
