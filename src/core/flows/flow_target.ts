/**
 * Who a flow's event is for and its type, resolved from a message: a literal
 * or an `input.`/`meta.` expression each. A name the flow's target cannot
 * use (a room no subscriber could join, a routing key too long) refuses the
 * message.
 *
 * @module
 */

import {
  evaluate,
  type Expression,
  MAX_TARGET_NAMES,
  type Message,
  renderName,
  renderNames,
} from "./expression.ts";
import { eventNameProblem } from "../hub/field.ts";
import type { Target } from "./target.ts";

const DEFAULT_EVENT = "message";

/** What resolving needs of a compiled flow. */
interface FlowTarget {
  readonly name: string;
  readonly to: Target;
  readonly target?: string;
  readonly event?: string;
  readonly targetExpression?: Expression;
  readonly eventExpression?: Expression;
}

/**
 * The names the flow's target resolves to (undefined: the target takes
 * none), or a reason why the target cannot be used.
 */
export function resolveNames(
  flow: FlowTarget,
  message: Message,
): readonly string[] | undefined | string {
  const to = flow.to;
  if (to.names === undefined) return undefined;
  const expression = flow.targetExpression;
  // A literal target (`target = "dashboard"`) is the name itself.
  if (expression === undefined) return [flow.target ?? to.fallback ?? ""];
  const value = evaluate(expression, message);
  const one = to.names === "routing_key";
  const names = one
    ? (Array.isArray(value) ? undefined : renderNames(value))
    : renderNames(value);
  if (names === undefined) {
    const found = value === undefined
      ? "is missing"
      : value === ""
      ? "is empty"
      : Array.isArray(value)
      ? one
        ? "is a list; a routing key is one string"
        : `is a list that is empty, longer than ${MAX_TARGET_NAMES} or holds something other than strings and numbers`
      : `is ${value === null ? "null" : typeof value}, not a string or number`;
    return `flow ${flow.name}: target ${expression.text} ${found}`;
  }
  // A name no subscriber can join would only pin memory in history.
  for (const name of names) {
    const problem = to.check(name);
    if (problem === undefined) continue;
    const shown = name.length > 32 ? `${name.slice(0, 32)}…` : name;
    return `flow ${flow.name}: target ${expression.text} ${
      Array.isArray(value) ? "holds" : "is"
    } ${JSON.stringify(shown)}, which ${
      one ? "is not a usable routing key" : "no subscriber can join"
    }: ${problem}`;
  }
  return names;
}

/** The event type, or what is wrong with the one an expression yields. */
export function resolveEvent(
  flow: FlowTarget,
  message: Message,
): string | { readonly problem: string } {
  if (flow.eventExpression === undefined) return flow.event ?? DEFAULT_EVENT;
  const value = evaluate(flow.eventExpression, message);
  if (value === undefined || value === null) return DEFAULT_EVENT;
  const name = renderName(value);
  if (name === undefined) return { problem: "is not a usable event name" };
  // Input must not size every frame: the bound of room and user names.
  const problem = eventNameProblem(name);
  return problem === undefined
    ? name
    : { problem: `is not a usable event name: it ${problem}` };
}
