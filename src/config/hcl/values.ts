/**
 * Values of HCL attributes as the parser gives them: literals as JSON, every
 * expression as `${...}` text. Only `env("X")` and `env("X", "default")` are
 * evaluated (Mycel's `env("X")` is "" when X is unset); any other expression
 * is kept as text where an expression is wanted (targets, transform, filter)
 * and refused elsewhere.
 *
 * @module
 */

/** An evaluated value, or an expression the caller decides about. */
export type HclValue =
  | { readonly kind: "value"; readonly value: unknown }
  | { readonly kind: "expression"; readonly text: string }
  | { readonly kind: "error"; readonly message: string };

type Env = Readonly<Record<string, string | undefined>>;

/**
 * "run" reads env() from the environment; "translate" writes it as the TOML
 * form `${X:-default}`, so the translated file still reads the environment
 * (and never prints a secret).
 */
export type Mode = "run" | "translate";

const ENV_CALL =
  /^\s*env\(\s*"((?:[^"\\]|\\.)*)"\s*(?:,\s*("(?:[^"\\]|\\.)*"|-?[0-9.]+|true|false)\s*)?\)\s*$/;

/** Mycel's `constants { ... }` values, by name, as `constants.<name>`. */
export type Constants = Readonly<Record<string, unknown>>;

const CONSTANT = /^\s*constants\.([A-Za-z_][A-Za-z0-9_-]*)\s*$/;

/** Evaluates a parsed attribute value with the environment `env`. */
export function evaluate(
  value: unknown,
  env: Env,
  mode: Mode,
  constants: Constants = {},
): HclValue {
  if (typeof value === "string") {
    return evaluateString(value, env, mode, constants);
  }
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const item of value) {
      const v = evaluate(item, env, mode, constants);
      if (v.kind !== "value") return asError(v);
      items.push(v.value);
    }
    return { kind: "value", value: items };
  }
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const v = evaluate(item, env, mode, constants);
      if (v.kind !== "value") return asError(v);
      out[key] = v.value;
    }
    return { kind: "value", value: out };
  }
  return { kind: "value", value };
}

function asError(v: HclValue): HclValue {
  return v.kind === "expression"
    ? {
      kind: "error",
      message: `cannot evaluate \`${v.text}\` here: only env("X") is evaluated`,
    }
    : v;
}

/** A string, possibly a template mixing text and `${...}` parts. */
function evaluateString(
  text: string,
  env: Env,
  mode: Mode,
  constants: Constants,
): HclValue {
  const parts = splitTemplate(text);
  if (
    mode === "translate" &&
    parts.some((p) => typeof p === "string" && p.includes("${"))
  ) {
    return {
      kind: "error",
      message:
        'a literal "${" cannot be written in TOML, where it reads the environment',
    };
  }
  if (parts.length === 1 && typeof parts[0] !== "string") {
    const only = parts[0].expression;
    return valueOf(only, env, mode, constants) ??
      { kind: "expression", text: only.trim() };
  }
  let out = "";
  for (const part of parts) {
    if (typeof part === "string") {
      out += part;
      continue;
    }
    const v = valueOf(part.expression, env, mode, constants);
    if (v === undefined) {
      return {
        kind: "error",
        message:
          `cannot evaluate \`${part.expression.trim()}\` inside a string: only env("X") and constants are evaluated`,
      };
    }
    if (v.kind !== "value") return v;
    out += String(v.value);
  }
  return { kind: "value", value: out };
}

/** `env(...)` or `constants.x`; undefined for any other expression. */
function valueOf(
  expression: string,
  env: Env,
  mode: Mode,
  constants: Constants,
): HclValue | undefined {
  const call = ENV_CALL.exec(expression);
  if (call) return { kind: "value", value: envValue(call, env, mode) };
  const constant = CONSTANT.exec(expression);
  if (constant === null) return undefined;
  return Object.hasOwn(constants, constant[1])
    ? { kind: "value", value: constants[constant[1]] }
    : { kind: "error", message: `no constant "${constant[1]}" is declared` };
}

function envValue(call: RegExpExecArray, env: Env, mode: Mode): unknown {
  const name = JSON.parse(`"${call[1]}"`) as string;
  const fallback = call[2] === undefined
    ? ""
    : call[2].startsWith('"')
    ? JSON.parse(call[2]) as string
    : call[2];
  // `${X:-}`: Mycel's env("X") is "" when X is unset.
  if (mode === "translate") return `\${${name}:-${fallback}}`;
  return env[name] ?? fallback;
}

type Part = string | { expression: string };

/** Splits "a${x}b" into "a", {x}, "b"; `$${` is a literal `${`. */
function splitTemplate(text: string): Part[] {
  const parts: Part[] = [];
  let literal = "";
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("$${", i)) {
      literal += "${";
      i += 3;
    } else if (text.startsWith("${", i)) {
      const end = closingBrace(text, i + 2);
      if (literal !== "") parts.push(literal);
      literal = "";
      parts.push({ expression: text.slice(i + 2, end) });
      i = end + 1;
    } else {
      literal += text[i++];
    }
  }
  if (literal !== "" || parts.length === 0) parts.push(literal);
  return parts;
}

/** Index of the `}` that closes a template starting at `start`. */
function closingBrace(text: string, start: number): number {
  let depth = 1;
  let quoted = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return i;
  }
  return text.length;
}
