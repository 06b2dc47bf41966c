/**
 * `${VAR}` and `${VAR:-default}` in string values, the TOML form of the
 * HCL's `env("VAR")`. Applied to values after parsing, so an environment
 * variable can never change the structure of the file.
 *
 * @module
 */

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** A variable that is used without a default and is not set. */
export interface MissingVariable {
  readonly path: string;
  readonly variable: string;
}

/** Returns a copy of `value` with every reference replaced, and what was missing. */
export function interpolate(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path = "",
  missing: MissingVariable[] = [],
): { value: unknown; missing: MissingVariable[] } {
  const at = (key: string | number) =>
    path === "" ? String(key) : `${path}.${key}`;
  if (typeof value === "string") {
    const replaced = value.replace(REFERENCE, (_, variable, fallback) => {
      const found = env[variable];
      if (found !== undefined && found !== "") return found;
      if (fallback !== undefined) return fallback;
      missing.push({ path, variable });
      return "";
    });
    return { value: replaced, missing };
  }
  if (Array.isArray(value)) {
    return {
      value: value.map((item, i) =>
        interpolate(item, env, at(i), missing).value
      ),
      missing,
    };
  }
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = interpolate(item, env, at(key), missing).value;
    }
    return { value: out, missing };
  }
  return { value, missing };
}
