/**
 * The cost bound of one CEL evaluation. @bufbuild/cel 0.6.1 has no cost
 * limit, and an evaluation runs on the event loop to its end, so a
 * comprehension over a large list (nested ones multiply) blocked everyone
 * for seconds. Each parsed expression is therefore rewritten before it is
 * planned:
 *
 * - every macro's loop condition goes through `@hypha_step`, which charges
 *   one step per element and, once the budget is spent, answers an error:
 *   the library's fold returns at its next condition, outer folds too;
 * - a list macro's `accu + [x]` becomes `@hypha_append`, an append to an
 *   array the fold owns. The library's list `+` wraps the two lists in a
 *   new one per element: after `map` over 10,000 items a chain 10,000 deep
 *   whose iteration overflows the stack (a RangeError on Deno 2.9) and is
 *   quadratic to walk.
 *
 * Converting the result to JSON is bounded too (cel_json.ts), so a
 * small loop cannot fan out into a huge event either.
 *
 * @module
 */

import {
  celFunc,
  type CelList,
  celList,
  CelScalar,
  type CelValue,
  isCelList,
} from "@bufbuild/cel";
import {
  type Expr,
  ExprSchema,
} from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { create } from "@bufbuild/protobuf";

/**
 * Elements one evaluation's macros may visit (nested ones multiply). A step
 * of @bufbuild/cel 0.6.1 costs about 1 µs warm and up to 30 µs cold on a
 * loaded 2-core machine (2026-12, Deno 2.9.6 and Bun 1.4.5): 5,000 steps
 * stay well inside the time bound, so the message decides, not the clock.
 */
export const MAX_CEL_STEPS = 5_000;
/** Values (list elements, map entries, scalars) one result may hold. */
export const MAX_CEL_RESULT_VALUES = 100_000;
/** Characters of strings (map keys included) one result may hold. */
export const MAX_CEL_RESULT_CHARS = 16 * 1024 * 1024;
/**
 * Wall-clock bound of one evaluation, a backstop for work a step does not
 * count (`x in list` or a string scan inside a macro). Far above what
 * 5,000 steps take, so it never decides for them.
 */
export const MAX_CEL_MILLISECONDS = 1_000;

const STEP = "@hypha_step";
const APPEND = "@hypha_append";

/** What one evaluation has spent; `spent` says why it was stopped. */
interface Budget {
  steps: number;
  values: number;
  chars: number;
  readonly deadline: number;
  spent?: string;
}

// Evaluation is synchronous and never re-entered: one budget at a time.
let current: Budget | undefined;

/** Runs `evaluate` under a fresh budget: its value, or why it was stopped. */
export function withinBudget<T>(
  evaluate: () => T,
): { readonly value: T } | { readonly spent: string } {
  const budget: Budget = {
    steps: 0,
    values: 0,
    chars: 0,
    deadline: performance.now() + MAX_CEL_MILLISECONDS,
  };
  current = budget;
  try {
    const value = evaluate();
    return budget.spent === undefined ? { value } : { spent: budget.spent };
  } catch (error) {
    if (budget.spent !== undefined) return { spent: budget.spent };
    throw error;
  } finally {
    current = undefined;
  }
}

/** Charges one macro step; throws once the budget is spent. */
function step(): void {
  const budget = current;
  if (budget === undefined) return;
  if (++budget.steps > MAX_CEL_STEPS) {
    budget.spent ??= `stopped: its macros visit more than ${MAX_CEL_STEPS} ` +
      `elements (nested macros multiply)`;
  }
  check(budget);
}

/** Charges one value of the result holding `chars` characters of strings. */
export function chargeValue(chars: number): void {
  const budget = current;
  if (budget === undefined) return;
  budget.chars += chars;
  if (++budget.values > MAX_CEL_RESULT_VALUES) {
    budget.spent ??= `stopped: its result holds more than ` +
      `${MAX_CEL_RESULT_VALUES} values`;
  } else if (budget.chars > MAX_CEL_RESULT_CHARS) {
    budget.spent ??= `stopped: its result holds more than ` +
      `${MAX_CEL_RESULT_CHARS} characters of strings`;
  }
  check(budget);
}

function check(budget: Budget): void {
  if (budget.spent === undefined && performance.now() > budget.deadline) {
    budget.spent = `stopped after ${MAX_CEL_MILLISECONDS} ms`;
  }
  // The library turns a throw into a CEL error value; withinBudget then
  // reports the budget, whatever the expression made of that error.
  if (budget.spent !== undefined) throw new RangeError(budget.spent);
}

// Lists @hypha_append made, with the array it may still push to.
const owned = new WeakMap<CelList, CelValue[]>();

/** The functions the rewrite calls; add them to the environment. */
export const budgetFuncs = [
  celFunc(STEP, [CelScalar.DYN], CelScalar.DYN, (condition: CelValue) => {
    step();
    return condition;
  }),
  celFunc(
    APPEND,
    [CelScalar.DYN, CelScalar.DYN],
    CelScalar.DYN,
    (accu: CelValue, tail: CelValue) => {
      if (!isCelList(accu) || !isCelList(tail)) {
        throw new TypeError("list append on something other than lists");
      }
      // The accumulator is the fold's own (`@result` cannot be spelled in
      // an expression), so the old value is never seen again: push in place.
      let items = owned.get(accu);
      let list = accu;
      if (items === undefined) {
        items = [...accu];
        list = celList(items);
        owned.set(list, items);
      }
      for (const item of tail) items.push(item);
      return list;
    },
  ),
];

/** Rewrites every comprehension in `expr` (in place), as the module says. */
export function instrument(expr: Expr | undefined): void {
  if (expr === undefined) return;
  const kind = expr.exprKind;
  switch (kind.case) {
    case "selectExpr":
      return instrument(kind.value.operand);
    case "callExpr":
      instrument(kind.value.target);
      for (const arg of kind.value.args) instrument(arg);
      return;
    case "listExpr":
      for (const element of kind.value.elements) instrument(element);
      return;
    case "structExpr":
      for (const entry of kind.value.entries) {
        if (entry.keyKind.case === "mapKey") instrument(entry.keyKind.value);
        instrument(entry.value);
      }
      return;
    case "comprehensionExpr": {
      const c = kind.value;
      for (const e of [c.iterRange, c.accuInit, c.loopStep, c.result]) {
        instrument(e);
      }
      instrument(c.loopCondition);
      if (c.loopCondition !== undefined) {
        c.loopCondition = call(STEP, [c.loopCondition]);
      }
      appendInPlace(c.loopStep, c.accuVar);
      return;
    }
  }
}

/** `accu + [x]` as `map` and `filter` write it, alone or under `_?_:_`. */
function appendInPlace(step: Expr | undefined, accuVar: string): void {
  if (step?.exprKind.case !== "callExpr") return;
  const c = step.exprKind.value;
  if (c.function === "_?_:_") return appendInPlace(c.args[1], accuVar);
  const [accu, tail] = c.args;
  if (
    c.function === "_+_" && c.args.length === 2 &&
    accu.exprKind.case === "identExpr" &&
    accu.exprKind.value.name === accuVar &&
    tail.exprKind.case === "listExpr"
  ) {
    c.function = APPEND;
  }
}

function call(name: string, args: Expr[]): Expr {
  return create(ExprSchema, {
    exprKind: { case: "callExpr", value: { function: name, args } },
  });
}
