/**
 * Who a flow's event is for and its type, resolved from a message: a literal
 * or an `input.`/`meta.` expression each; a target no subscriber can join
 * refuses the message.
 *
 * @module
 */

import { type Audience, EVERYONE } from "./audience.ts";
import {
  evaluate,
  MAX_TARGET_NAMES,
  type Message,
  renderName,
  renderNames,
} from "./expression.ts";
import { eventNameProblem } from "./field.ts";
import type { Expression } from "./expression.ts";
import { checkName, DEFAULT_QUERY_LIMITS } from "./query.ts";

const DEFAULT_EVENT = "message";

/** The SSE connector's operations, as in the seed; `publish` for Mercure. */
export type Operation =
  | "broadcast"
  | "send_to_room"
  | "send_to_user"
  | "publish";

/** What resolving needs of a compiled flow. */
interface FlowTarget {
  readonly name: string;
  readonly operation: Operation;
  readonly target?: string;
  readonly event?: string;
  readonly targetExpression?: Expression;
  readonly eventExpression?: Expression;
}

/** The audience, or a reason why the target cannot be used. */
export function resolveAudience(
  flow: FlowTarget,
  message: Message,
): Audience | string {
  if (flow.operation === "broadcast") return EVERYONE;
  const kind = flow.operation === "send_to_room" ? "room" : "user";
  const expression = flow.targetExpression;
  // A literal target (`target = "dashboard"`) is the name itself.
  if (expression === undefined) return { kind, names: [flow.target!] };
  const value = evaluate(expression, message);
  const names = renderNames(value);
  if (names === undefined) {
    const found = value === undefined
      ? "is missing"
      : value === ""
      ? "is empty"
      : Array.isArray(value)
      ? `is a list that is empty, longer than ${MAX_TARGET_NAMES} or holds something other than strings and numbers`
      : `is ${value === null ? "null" : typeof value}, not a string or number`;
    return `flow ${flow.name}: target ${expression.text} ${found}`;
  }
  // A name no subscriber can join would only pin memory in history.
  for (const name of names) {
    const problem = checkName(kind, name, DEFAULT_QUERY_LIMITS);
    if (problem === undefined) continue;
    const shown = name.length > 32 ? `${name.slice(0, 32)}…` : name;
    return `flow ${flow.name}: target ${expression.text} ${
      Array.isArray(value) ? "holds" : "is"
    } ${JSON.stringify(shown)}, which no subscriber can join: ${problem}`;
  }
  return { kind, names };
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
