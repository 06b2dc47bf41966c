/**
 * What a message body must be, checked once for every source: a JSON object
 * whose nesting stays within a depth limit. The limit is checked on the
 * parsed value before anything stringifies or walks it recursively: 100,000
 * nested objects parse fine but overflow the stack of `JSON.stringify` on
 * Bun 1.4 (a 500), and are delivered as they are on Deno 2.9.
 *
 * @module
 */

/** The deepest nesting of objects and arrays a message may have. */
export const MAX_JSON_DEPTH = 64;

/** True for a JSON object: not null, not an array, not a primitive. */
export function isJsonObject(
  value: unknown,
): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** "null", "an array", "a string"...: what a value is, for a refusal. */
export function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * True when objects and arrays in `value` nest at most `maxDepth` deep
 * (`{}` is depth 1). Iterative, so no input can overflow the stack here.
 */
export function jsonDepthWithin(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [here, depth] = stack.pop()!;
    if (here === null || typeof here !== "object") continue;
    if (depth > maxDepth) return false;
    for (const child of Object.values(here)) {
      if (child !== null && typeof child === "object") {
        stack.push([child, depth + 1]);
      }
    }
  }
  return true;
}

/** The JSON object in a parsed body, or why it cannot be a message. */
export function checkJsonMessage(
  value: unknown,
):
  | { readonly ok: true; readonly value: Record<string, unknown> }
  | {
    readonly ok: false;
    readonly code: "not_object" | "too_deep";
    readonly reason: string;
  } {
  if (!isJsonObject(value)) {
    return {
      ok: false,
      code: "not_object",
      reason: `body is ${describeJson(value)}, expected a JSON object`,
    };
  }
  if (!jsonDepthWithin(value, MAX_JSON_DEPTH)) {
    return {
      ok: false,
      code: "too_deep",
      reason: `body nests deeper than ${MAX_JSON_DEPTH} levels`,
    };
  }
  return { ok: true, value };
}
