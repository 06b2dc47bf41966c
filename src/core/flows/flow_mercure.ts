/**
 * A flow's Mercure update (`operation = "publish"`): its topics, privacy
 * and id, each a literal or read from the message with an `input.` or
 * `meta.` expression, compiled once at start.
 *
 * @module
 */

import type { Audience } from "../history/audience.ts";
import {
  compileExpression,
  evaluate,
  type Expression,
  isExpression,
  type Message,
  renderName,
  renderNames,
} from "./expression.ts";
import {
  MAX_TOPIC_LENGTH,
  MAX_UPDATE_TOPICS,
  newUpdateId,
  updateProblem,
} from "./mercure_update.ts";

/** What a flow says about its updates, as written. */
export interface MercureSpec {
  readonly topic?: string | readonly string[];
  readonly private?: boolean | string;
  readonly id?: string;
}

/** The compiled form: a literal or an expression each. */
export interface MercureFlow {
  readonly topics: readonly (string | Expression)[];
  readonly private: boolean | Expression;
  readonly id?: Expression;
}

const compile = (text: string) =>
  isExpression(text) ? compileExpression(text) : text;

/** Compiles a publish flow's fields. */
export function compileMercure(spec: MercureSpec): MercureFlow {
  const topics = spec.topic === undefined
    ? []
    : typeof spec.topic === "string"
    ? [spec.topic]
    : spec.topic;
  const priv = spec.private ?? false;
  return {
    topics: topics.map(compile),
    private: typeof priv === "boolean" ? priv : compileExpression(priv),
    id: spec.id === undefined ? undefined : compileExpression(spec.id),
  };
}

/** The update's audience and id, or what is wrong (for the refusal). */
export function resolveUpdate(
  flowName: string,
  m: MercureFlow,
  message: Message,
): { audience: Audience; id: string } | string {
  const topics: string[] = [];
  for (const part of m.topics) {
    if (typeof part === "string") {
      topics.push(part);
      continue;
    }
    const names = renderNames(evaluate(part, message));
    if (names === undefined) {
      return `flow ${flowName}: topic ${part.text} is missing, empty or not a string or list of strings`;
    }
    topics.push(...names);
  }
  if (topics.length > MAX_UPDATE_TOPICS) {
    return `flow ${flowName}: more than ${MAX_UPDATE_TOPICS} topics`;
  }
  let isPrivate = false;
  if (typeof m.private === "boolean") isPrivate = m.private;
  else {
    const value = evaluate(m.private, message);
    if (value !== undefined && value !== null && typeof value !== "boolean") {
      return `flow ${flowName}: private ${m.private.text} is ${typeof value}, not a boolean`;
    }
    isPrivate = value === true;
  }
  let id: string | undefined;
  if (m.id !== undefined) {
    const value = evaluate(m.id, message);
    if (value !== undefined && value !== null) {
      id = renderName(value);
      if (id === undefined) {
        return `flow ${flowName}: id ${m.id.text} is not a string or number`;
      }
    }
  }
  const problem = updateProblem({ topics, data: "", private: isPrivate, id });
  if (problem !== undefined) {
    const limit = topics.find((t) => t.length > MAX_TOPIC_LENGTH);
    return `flow ${flowName}: ${
      limit === undefined ? problem : "topic is too long"
    }`;
  }
  return {
    audience: { kind: "topics", names: topics, private: isPrivate },
    id: id ?? newUpdateId(),
  };
}
