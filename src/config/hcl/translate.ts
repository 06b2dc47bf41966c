/**
 * `hypha translate PATH`: a Mycel config as hypha's TOML, with a comment at
 * each place where the meaning or a default differs, so a user can switch
 * formats. env("X", "d") is written `${X:-d}`: the TOML reads the
 * environment at start as the HCL did, and no secret is printed.
 *
 * @module
 */

import { ConfigError } from "../error.ts";
import { validateConfig } from "../load.ts";
import { isTable, type Mapping, type Note } from "./context.ts";
import { isHclPath, locate, mapOrThrow, readHclFiles } from "./load_hcl.ts";

/** Keys printed first in a table, in this order; the rest by name. */
const FIRST = ["service", "type", "driver", "connector", "operation"];

/** The TOML text of `mapping`, with its notes as comments. */
export function toToml(mapping: Mapping, source: string): string {
  const notes = new Map<string, Note[]>();
  for (const note of mapping.notes) {
    notes.set(note.path, [...(notes.get(note.path) ?? []), note]);
  }
  const out: string[] = [
    `# Translated from ${source} by \`hypha translate\`.`,
    "# Comments mark where hypha's meaning or default differs from Mycel's.",
  ];
  printTable(mapping.raw, [], notes, out);
  return out.join("\n") + "\n";
}

function printTable(
  table: Record<string, unknown>,
  path: string[],
  notes: Map<string, Note[]>,
  out: string[],
): void {
  const keys = Object.keys(table).sort(byFirst);
  const scalars = keys.filter((k) => !isTable(table[k]));
  const tables = keys.filter((k) => isTable(table[k]));
  if (
    path.length > 0 &&
    (scalars.length > 0 || tables.length === 0 || notes.has(path.join(".")))
  ) {
    out.push("");
    comments(notes, path, out);
    out.push(`[${path.map(tomlKey).join(".")}]`);
  }
  for (const key of scalars) {
    comments(notes, [...path, key], out);
    out.push(`${tomlKey(key)} = ${tomlValue(table[key])}`);
  }
  // Notes about keys that are absent (hypha's default applies) still print.
  for (const [at, list] of notes) {
    const parent = at.split(".").slice(0, -1).join(".");
    const key = at.split(".").at(-1)!;
    if (parent === path.join(".") && !(key in table) && path.length > 0) {
      for (const note of list) {
        out.push(`# ${label(note)}: ${key}: ${note.text}`);
      }
    }
  }
  for (const key of tables) {
    printTable(
      table[key] as Record<string, unknown>,
      [...path, key],
      notes,
      out,
    );
  }
}

function comments(notes: Map<string, Note[]>, path: string[], out: string[]) {
  for (const note of notes.get(path.join(".")) ?? []) {
    out.push(`# ${label(note)}: ${note.text}`);
  }
}

const label = (note: Note) =>
  note.kind === "default"
    ? "Mycel default made explicit"
    : "differs from Mycel";

function byFirst(a: string, b: string): number {
  const ia = FIRST.indexOf(a);
  const ib = FIRST.indexOf(b);
  if (ia >= 0 || ib >= 0) return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  return 0;
}

const tomlKey = (key: string) =>
  /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);

/** JSON's string escapes are all valid in TOML basic strings. */
function tomlValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(", ")}]`;
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  if (isTable(value)) {
    return `{ ${
      Object.entries(value).map(([k, v]) => `${tomlKey(k)} = ${tomlValue(v)}`)
        .join(", ")
    } }`;
  }
  throw new TypeError(`Cannot write ${String(value)} in TOML`);
}

/**
 * Checks the Mycel config at `path` as `--config` would (with the current
 * environment), then returns its TOML. Problems are one ConfigError.
 */
export async function translateConfig(
  path: string,
  readTextFile: (path: string) => Promise<string>,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  if (!(await isHclPath(path))) {
    throw new ConfigError(
      `${path}: translate reads Mycel's HCL: a .hcl or .mycel file, or a directory of them`,
    );
  }
  const files = await readHclFiles(path, readTextFile);
  const run = mapOrThrow(files, env, "run");
  validateConfig(run.raw, (at) => locate(run, at) ?? path);
  return toToml(mapOrThrow(files, env, "translate"), path);
}
