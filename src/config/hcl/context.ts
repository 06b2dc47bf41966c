/**
 * The state of mapping HCL onto hypha's raw config: the object being built,
 * where each of its keys came from (file:line, for error messages), the notes
 * `translate` prints, and the errors found. Also the rule table that reads a
 * block's attributes, so every block refuses what it does not know the same
 * way.
 *
 * @module
 */

import { suggest } from "../suggest.ts";
import { childBlock, lineOf, type Outline } from "./outline.ts";
import { evaluate, type Mode } from "./values.ts";

/** A remark for `translate`: where meaning or a default differs from Mycel. */
export interface Note {
  /** Dotted TOML path the note sits above. */
  readonly path: string;
  readonly kind: "differs" | "default";
  readonly text: string;
}

/** One HCL block being read and the TOML table it maps onto. */
export interface Block {
  readonly file: string;
  readonly json: Record<string, unknown>;
  readonly outline: Outline | undefined;
  readonly path: readonly string[];
  /** For messages: `connector "rabbit" > queue`. */
  readonly label: string;
}

/** Mapping state shared by every block. */
export class Mapping {
  readonly raw: Record<string, unknown> = {};
  /** Dotted TOML path -> "file:line". */
  readonly origins = new Map<string, string>();
  readonly notes: Note[] = [];
  readonly errors: string[] = [];
  /** Mycel's `constants { ... }`, evaluated. */
  readonly constants: Record<string, unknown> = {};
  constructor(
    readonly env: Readonly<Record<string, string | undefined>>,
    readonly mode: Mode,
  ) {}

  /** Sets `value` at TOML `path`, remembering where it came from. */
  set(path: readonly string[], value: unknown, origin: string): void {
    let table = this.raw;
    for (const key of path.slice(0, -1)) {
      const next = table[key];
      if (next === null || typeof next !== "object" || Array.isArray(next)) {
        table[key] = {};
      }
      table = table[key] as Record<string, unknown>;
    }
    table[path.at(-1)!] = value;
    this.origins.set(path.join("."), origin);
  }

  note(path: readonly string[], kind: Note["kind"], text: string): void {
    this.notes.push({ path: path.join("."), kind, text });
  }

  fail(block: Block, attr: string | undefined, message: string): void {
    const what = attr === undefined ? block.label : `${block.label}: ${attr}`;
    this.errors.push(`${where(block, attr)}: ${what}: ${message}`);
  }

  /** The evaluated value of attribute `attr`; undefined (and an error) if it has none. */
  value(block: Block, attr: string, raw = block.json[attr]): unknown {
    const v = evaluate(unblock(raw), this.env, this.mode, this.constants);
    if (v.kind === "value") return v.value;
    this.fail(
      block,
      attr,
      v.kind === "error"
        ? v.message
        : `cannot evaluate \`${v.text}\`: write a value (only env("X") is evaluated)`,
    );
    return undefined;
  }
}

/** "file:line" of attribute or nested block `attr` of `block`. */
export function where(block: Block, attr?: string): string {
  return `${block.file}:${lineOf(block.outline, attr)}`;
}

/** The body of nested block `name`; errors when it is written twice. */
export function nested(
  m: Mapping,
  block: Block,
  name: string,
  toml: readonly string[] = [...block.path, name],
): Block | undefined {
  const value = block.json[name];
  const bodies = Array.isArray(value) ? value : [value];
  if (bodies.length !== 1 || !isTable(bodies[0])) {
    m.fail(
      block,
      name,
      bodies.length > 1
        ? `written ${bodies.length} times; write it once`
        : "expected a block",
    );
    return undefined;
  }
  return {
    file: block.file,
    json: bodies[0] as Record<string, unknown>,
    outline: childBlock(block.outline, name),
    path: toml,
    label: `${block.label} > ${name}`,
  };
}

export const isTable = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** How one attribute or nested block of a Mycel block is read. */
export type Rule =
  /** The same key and meaning in hypha. */
  | "copy"
  /** The same meaning under another key (in the same table). */
  | { readonly rename: string; readonly why: string }
  /** A nested block, read by its own function. */
  | { readonly block: (m: Mapping, block: Block) => void }
  /** Accepted when it has this value (hypha's behaviour), else refused. */
  | { readonly only: unknown; readonly advice: string }
  /** Accepted and not carried over; the note says why nothing is lost. */
  | { readonly ignore: string }
  /** Refused, with what to do instead. */
  | { readonly refuse: string }
  /** Read by a function (defaults, rewrites). */
  | { readonly read: (m: Mapping, block: Block, value: unknown) => void }
  /** Read by a function from the parser's form (expressions). */
  | { readonly take: (m: Mapping, block: Block) => void };

/** Reads every attribute of `block` by `rules`; anything else is an error. */
export function readBlock(
  m: Mapping,
  block: Block,
  rules: Readonly<Record<string, Rule>>,
): void {
  for (const key of Object.keys(block.json)) {
    const rule = rules[key];
    const origin = where(block, key);
    if (rule === undefined) {
      m.fail(
        block,
        key,
        `unknown to hypha${
          suggest(key, Object.keys(rules))
        }; remove it, or see "Coming from Mycel" in the README for what hypha reads`,
      );
    } else if (rule === "copy") {
      const v = m.value(block, key);
      if (v !== undefined) m.set([...block.path, key], v, origin);
    } else if ("rename" in rule) {
      const v = m.value(block, key);
      if (v === undefined) continue;
      m.set([...block.path, rule.rename], v, origin);
      m.note([...block.path, rule.rename], "differs", rule.why);
    } else if ("block" in rule) {
      const body = nested(m, block, key);
      if (body !== undefined) rule.block(m, body);
    } else if ("only" in rule) {
      const v = m.value(block, key);
      if (
        v !== undefined && v !== rule.only && String(v) !== String(rule.only)
      ) {
        m.fail(block, key, rule.advice);
      }
    } else if ("ignore" in rule) {
      m.note(block.path, "differs", `${key}: ${rule.ignore}`);
    } else if ("refuse" in rule) {
      m.fail(block, key, rule.refuse);
    } else if ("take" in rule) {
      rule.take(m, block);
    } else {
      const v = m.value(block, key);
      if (v !== undefined) rule.read(m, block, v);
    }
  }
}

/** The value at `path` below `table`, if there is one. */
export function lookup(table: unknown, path: readonly string[]): unknown {
  let here = table;
  for (const key of path) {
    if (here === null || typeof here !== "object") return undefined;
    here = (here as Record<string, unknown>)[key];
  }
  return here;
}

/**
 * The parser writes a block as a list of one body; hypha-only tables copied
 * as they are (`history { ... }`, `auth { ... }`) become plain tables again.
 */
function unblock(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.length === 1 && isTable(value[0])
      ? unblock(value[0])
      : value.map(unblock);
  }
  if (!isTable(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, unblock(v)]),
  );
}
