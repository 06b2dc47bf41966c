/**
 * Reads `input.<path>` and `meta.<path>` expressions from a message, and
 * renders the value as a room, user or event name.
 *
 * @module
 */

import { isJsonObject } from "./json.ts";

/** A message as sources hand it to flows. */
export interface Message {
  /** The JSON object body (plus REST path params). */
  readonly input: Readonly<Record<string, unknown>>;
  /** Source metadata: routing key, exchange, headers, route... */
  readonly meta: Readonly<Record<string, unknown>>;
}

/** A compiled expression: the root and the keys below it. */
export interface Expression {
  readonly text: string;
  readonly root: "input" | "meta";
  readonly keys: readonly string[];
}

const EXPRESSION = /^(input|meta)(\.[^.\s]+)+$/;

/** True when `text` is an expression like `input.room` rather than a literal. */
export function isExpression(text: string): boolean {
  return EXPRESSION.test(text);
}

/**
 * True when `text` reads the message (it starts with `input.` or `meta.`);
 * any other target is a literal room or user name.
 */
export function readsMessage(text: string): boolean {
  return text.startsWith("input.") || text.startsWith("meta.");
}

/** Compiles "input.a.b" once at start. */
export function compileExpression(text: string): Expression {
  const [root, ...keys] = text.split(".");
  if ((root !== "input" && root !== "meta") || keys.length === 0) {
    throw new SyntaxError(
      `Cannot compile expression: "${text}" does not start with input. or meta.`,
    );
  }
  return { text, root, keys };
}

/** The value the expression points at, or undefined. */
export function evaluate(expression: Expression, message: Message): unknown {
  let here: unknown = message[expression.root];
  for (const key of expression.keys) {
    if (!isJsonObject(here)) return undefined;
    here = Object.hasOwn(here, key) ? here[key] : undefined;
  }
  return here;
}

/**
 * Renders a value as a name: strings as they are, integral numbers without a
 * fraction (`42`, never `42.0`). Anything else is not a name.
 */
export function renderName(value: unknown): string | undefined {
  if (typeof value === "string") return value === "" ? undefined : value;
  if (typeof value === "number" && Number.isFinite(value)) {
    return Number.isInteger(value) ? BigInt(value).toString() : String(value);
  }
  if (typeof value === "bigint") return value.toString();
  return undefined;
}

/** Most names one target list may hold; a longer list refuses the message. */
export const MAX_TARGET_NAMES = 1000;

/**
 * Renders a target: one name, or a non-empty list of names (duplicates
 * dropped). Undefined when any element is not a name.
 */
export function renderNames(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) {
    const name = renderName(value);
    return name === undefined ? undefined : [name];
  }
  if (value.length === 0 || value.length > MAX_TARGET_NAMES) return undefined;
  const names = new Set<string>();
  for (const item of value) {
    const name = renderName(item);
    if (name === undefined) return undefined;
    names.add(name);
  }
  return [...names];
}
