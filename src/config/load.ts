/**
 * Reads a config file: TOML, then `${VAR}` interpolation, then the schema,
 * then cross-checks. Every failure is one ConfigError whose message names the
 * file, the key path, what was found and what was expected. Mycel's HCL (a
 * `.hcl`/`.mycel` file or a directory) is mapped onto the same raw object
 * first (see hcl/).
 *
 * @module
 */

import { errorMessage } from "../core/errors.ts";
import { parse as parseToml, TomlError } from "smol-toml";
import type { z } from "zod";
import { checkConfig } from "./check.ts";
import { suggest } from "./suggest.ts";
import { ConfigError } from "./error.ts";
import { isHclPath, locate, readHcl } from "./hcl/load_hcl.ts";
import { interpolate } from "./interpolate.ts";
import { type Config, config as configSchema } from "./schema.ts";

export { ConfigError };

/** A valid config and the warnings to log at start. */
export interface LoadedConfig {
  readonly config: Config;
  readonly warnings: readonly string[];
}

/** Parses and validates config text; `file` is only used in messages. */
export function parseConfig(
  text: string,
  file: string,
  env: Readonly<Record<string, string | undefined>>,
): LoadedConfig {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (error) {
    if (error instanceof TomlError) {
      const reason = error.message.split("\n")[0].replace(
        /^Invalid TOML document: /,
        "",
      );
      throw new ConfigError(
        `${file}:${error.line}:${error.column}: invalid TOML: ${reason}`,
      );
    }
    throw error;
  }
  const { value, missing } = interpolate(raw, env);
  if (missing.length > 0) {
    throw new ConfigError(
      missing.map((m) =>
        `${file}: ${m.path}: environment variable ${m.variable} is not set (write "\${${m.variable}:-default}" to give a default)`
      ).join("\n"),
    );
  }
  return validateConfig(value, () => file);
}

/**
 * Validates a raw config object; `where` names the file (and line) a key
 * path comes from, for messages.
 */
export function validateConfig(
  value: unknown,
  where: (path: readonly string[]) => string,
): LoadedConfig {
  const result = configSchema.safeParse(value);
  if (!result.success) {
    const lines = result.error.issues.flatMap((issue) =>
      describeIssue(issue, value).map((line) =>
        `${where(issue.path.map(String))}: ${line}`
      )
    );
    throw new ConfigError(lines.join("\n"));
  }
  const { problems, warnings } = checkConfig(result.data);
  if (problems.length > 0) {
    throw new ConfigError(
      problems.map((p) =>
        `${where(p.path.split("."))}: ${p.path}: ${p.message}`
      )
        .join("\n"),
    );
  }
  return { config: result.data, warnings };
}

/** Reads and validates a config file with the runtime's file reader. */
export async function loadConfig(
  file: string,
  readTextFile: (path: string) => Promise<string>,
  env: Readonly<Record<string, string | undefined>>,
): Promise<LoadedConfig> {
  if (await isHclPath(file)) {
    const mapping = await readHcl(file, readTextFile, env, "run");
    return validateConfig(mapping.raw, (path) => locate(mapping, path) ?? file);
  }
  let text: string;
  try {
    text = await readTextFile(file);
  } catch (error) {
    const reason = errorMessage(error);
    throw new ConfigError(`${file}: cannot read the config file: ${reason}`);
  }
  return parseConfig(text, file, env);
}

type Issue = z.core.$ZodIssue;

/** Keys whose values are never repeated in an error message. */
const SECRET_KEYS = new Set(["jwt_secret", "tokens", "password", "url"]);

function describeIssue(issue: Issue, data: unknown): string[] {
  const path = issue.path.map(String);
  const where = path.length === 0 ? "(top level)" : path.join(".");
  const found = valueAt(data, path);
  const got = found === undefined
    ? "nothing"
    : path.some((key) => SECRET_KEYS.has(key))
    ? "a value that is not shown (it may be a secret)"
    : show(found);
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) =>
        `${path.length === 0 ? key : `${where}.${key}`}: unknown key${
          suggest(key, KNOWN_KEYS)
        }`
      );
    case "invalid_type":
      return [`${where}: expected ${issue.expected}, got ${got}`];
    case "invalid_value":
      return [
        `${where}: expected ${
          issue.values.map((v) => JSON.stringify(v)).join(" or ")
        }, got ${got}`,
      ];
    case "invalid_union":
      if (isConnectorType(path)) {
        return [`${where}: expected "sse", "rest" or "mq", got ${got}`];
      }
      return [`${where}: ${issue.message}, got ${got}`];
    case "too_small":
    case "too_big":
      return [
        `${where}: ${
          issue.message.replace(/^Too (small|big): /, "")
        }, got ${got}`,
      ];
    default:
      // A cross-field check's message already says what was found.
      if (issue.code === "custom" && issue.params?.whole) {
        return [`${where}: ${issue.message}`];
      }
      return [`${where}: ${issue.message}, got ${got}`];
  }
}

const isConnectorType = (path: string[]) =>
  path.length === 3 && path[0] === "connector" && path[2] === "type";

function valueAt(data: unknown, path: readonly string[]): unknown {
  let here = data;
  for (const key of path) {
    if (here === null || typeof here !== "object") return undefined;
    here = (here as Record<string, unknown>)[key];
  }
  return here;
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Every key name the schema knows, for "did you mean" hints. */
const KNOWN_KEYS: readonly string[] = [...collectKeys(configSchema)];

function collectKeys(schema: unknown, seen = new Set<unknown>()): Set<string> {
  const keys = new Set<string>();
  const visit = (s: unknown) => {
    if (s === null || typeof s !== "object" || seen.has(s)) return;
    seen.add(s);
    const def = (s as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (def === undefined) return;
    const shape = def.shape as Record<string, unknown> | undefined;
    if (shape) {
      for (const [key, child] of Object.entries(shape)) {
        keys.add(key);
        visit(child);
      }
    }
    for (const field of ["innerType", "in", "out", "valueType", "element"]) {
      visit(def[field]);
    }
    if (Array.isArray(def.options)) def.options.forEach(visit);
  };
  visit(schema);
  return keys;
}
