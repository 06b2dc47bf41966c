/**
 * CEL expressions (transform fields, filters) over a message, with
 * @bufbuild/cel: compiled once at start, run per message. The variables are
 * `input` (the body object) and `meta` (the source's metadata); the
 * functions are CEL's standard ones plus the strings extension. Each run
 * has a cost bound (cel_budget.ts).
 *
 * Compiling also refuses what CEL would only find at run time: a name other
 * than `input`, `meta` or a macro's variable, and a function that does not
 * exist, so a typo is a config error rather than a rejected message.
 *
 * @module
 */

import {
  type CelEnv,
  celEnv,
  type CelInput,
  isCelError,
  parse,
  plan,
} from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import type { Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { budgetFuncs, instrument, withinBudget } from "./cel_budget.ts";
import { toJson } from "./cel_json.ts";
import { errorMessage } from "../errors.ts";
import type { Message } from "./expression.ts";

/** A compiled CEL expression. */
export interface CelProgram {
  readonly text: string;
  /** The JSON value of the expression on `message`, or why there is none. */
  run(message: Message): CelOutcome;
}

/** What running a program gave. */
export type CelOutcome =
  | { readonly ok: true; readonly value: unknown }
  | {
    readonly ok: false;
    readonly reason: string;
    /** True when the evaluation was stopped by its cost bound (cel_budget.ts). */
    readonly limit?: true;
  };

/** A CEL expression that does not compile, with where (1-based). */
export class CelSyntaxError extends SyntaxError {
  override name = "CelSyntaxError";
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`at ${line}:${column}: ${reason}`);
  }
}

const VARIABLES = new Set(["input", "meta"]);
/** Type names CEL lets an expression mention, as in `type(x) == int`. */
const TYPE_NAMES = new Set([
  "int",
  "uint",
  "double",
  "bool",
  "string",
  "bytes",
  "list",
  "map",
  "null_type",
  "type",
  "dyn",
]);
/** Operators the parser writes (`_+_`, `!_`, `@in`); never user-spelled. */
const OPERATOR = /^(?:_.+|[!-]_|@.+)$/;
const PARSE_ERROR = /^<input>:(\d+):(\d+): ([\s\S]*)$/;

let sharedEnv: CelEnv | undefined;
const env = () => sharedEnv ??= celEnv({ funcs: [...strings, ...budgetFuncs] });

/** Compiles `text`; throws CelSyntaxError with the position on a mistake. */
export function compileCel(text: string): CelProgram {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(text);
  } catch (error) {
    const message = errorMessage(error);
    const match = PARSE_ERROR.exec(message);
    if (match === null) throw new CelSyntaxError(message, 1, 1);
    throw new CelSyntaxError(match[3], Number(match[1]), Number(match[2]));
  }
  const positions = parsed.sourceInfo?.positions ?? {};
  const unknown = findUnknownName(parsed.expr, new Set());
  if (unknown !== undefined) {
    const offset = positions[String(unknown.id)] ?? 0;
    const { line, column } = lineAndColumn(text, offset);
    throw new CelSyntaxError(unknown.reason, line, column);
  }
  instrument(parsed.expr);
  const evaluate = plan(env(), parsed);
  return {
    text,
    run(message) {
      let ran;
      try {
        ran = withinBudget(() => {
          const result = evaluate({
            input: message.input as CelInput,
            meta: message.meta as CelInput,
          });
          return isCelError(result) ? result : { json: toJson(result) };
        });
      } catch (error) {
        // A throw (a RangeError of the runtime, say) refuses this message
        // only; it is never the caller's 500.
        return {
          ok: false,
          reason: `evaluation failed: ${errorMessage(error)}`,
        };
      }
      if ("spent" in ran) {
        return { ok: false, reason: `evaluation ${ran.spent}`, limit: true };
      }
      const result = ran.value;
      if (isCelError(result)) return { ok: false, reason: result.message };
      return { ok: true, value: result.json };
    },
  };
}

/** The first name or function that cannot resolve, with its node's id. */
function findUnknownName(
  expr: Expr | undefined,
  scope: ReadonlySet<string>,
): { id: bigint; reason: string } | undefined {
  if (expr === undefined) return undefined;
  const kind = expr.exprKind;
  const walk = (e: Expr | undefined, s = scope) => findUnknownName(e, s);
  switch (kind.case) {
    case "identExpr": {
      const name = kind.value.name;
      if (VARIABLES.has(name) || TYPE_NAMES.has(name) || scope.has(name)) {
        return undefined;
      }
      return {
        id: expr.id,
        reason: `unknown name "${name}" (the variables are input and meta)`,
      };
    }
    case "selectExpr":
      return walk(kind.value.operand);
    case "callExpr": {
      const call = kind.value;
      // `strings.quote(x)` parses as quote() on an identifier `strings`.
      const target = call.target?.exprKind;
      const namespaced = target?.case === "identExpr" &&
          !VARIABLES.has(target.value.name) && !scope.has(target.value.name)
        ? `${target.value.name}.${call.function}`
        : undefined;
      if (namespaced !== undefined && env().funcs.find(namespaced)) {
        return first(call.args, walk);
      }
      if (!OPERATOR.test(call.function) && !env().funcs.find(call.function)) {
        return { id: expr.id, reason: `unknown function "${call.function}"` };
      }
      return walk(call.target) ??
        call.args.reduce<ReturnType<typeof walk>>(
          (found, arg) => found ?? walk(arg),
          undefined,
        );
    }
    case "listExpr":
      return first(kind.value.elements, walk);
    case "structExpr":
      return first(
        kind.value.entries.flatMap((entry) => [
          entry.keyKind.case === "mapKey" ? entry.keyKind.value : undefined,
          entry.value,
        ]),
        walk,
      );
    case "comprehensionExpr": {
      const c = kind.value;
      const inner = new Set(scope);
      for (const name of [c.iterVar, c.iterVar2, c.accuVar]) {
        if (name) inner.add(name);
      }
      return walk(c.iterRange) ?? walk(c.accuInit) ??
        first([c.loopCondition, c.loopStep, c.result], (e) => walk(e, inner));
    }
    default:
      return undefined;
  }
}

function first<T, R>(
  items: readonly T[],
  visit: (item: T) => R | undefined,
): R | undefined {
  for (const item of items) {
    const found = visit(item);
    if (found !== undefined) return found;
  }
  return undefined;
}

function lineAndColumn(
  text: string,
  offset: number,
): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}
