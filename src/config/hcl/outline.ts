/**
 * Where each block and attribute of an HCL file starts. The parser's JSON
 * form has no positions, so error messages find their line here: a small
 * scan that knows strings, templates, heredocs, comments and brackets, and
 * nothing about meaning (the parser has already accepted the file).
 *
 * @module
 */

/** A block, or the file itself (name ""), with where its parts start. */
export interface Outline {
  readonly name: string;
  readonly labels: readonly string[];
  readonly line: number;
  readonly attributes: Map<string, number>;
  readonly blocks: Outline[];
}

interface Token {
  readonly kind: "word" | "string" | "punct" | "newline";
  readonly text: string;
  readonly line: number;
}

/** The outline of `text`; line numbers start at 1. */
export function outline(text: string): Outline {
  const tokens = tokenize(text);
  const file = node("", [], 1);
  parseBody(tokens, 0, file);
  return file;
}

/** The `n`th (0-based) block called `name` (with `label`, if given). */
export function childBlock(
  parent: Outline | undefined,
  name: string,
  label?: string,
  n = 0,
): Outline | undefined {
  return parent?.blocks.filter((b) =>
    b.name === name && (label === undefined || b.labels[0] === label)
  )[n];
}

/** The line of attribute or block `name` in `parent`, else the parent's line. */
export function lineOf(parent: Outline | undefined, name?: string): number {
  if (parent === undefined) return 1;
  if (name === undefined) return parent.line;
  return parent.attributes.get(name) ?? childBlock(parent, name)?.line ??
    parent.line;
}

const node = (name: string, labels: string[], line: number): Outline => ({
  name,
  labels,
  line,
  attributes: new Map(),
  blocks: [],
});

/** Reads statements until `}` or the end; returns the index after them. */
function parseBody(tokens: Token[], start: number, into: Outline): number {
  let i = start;
  while (i < tokens.length) {
    const t = tokens[i];
    if (t.kind === "newline") i++;
    else if (t.text === "}") return i + 1;
    else if (t.kind === "word" && tokens[i + 1]?.text === "=") {
      if (!into.attributes.has(t.text)) into.attributes.set(t.text, t.line);
      i = skipExpression(tokens, i + 2);
    } else if (t.kind === "word") {
      const labels: string[] = [];
      let j = i + 1;
      while (tokens[j]?.kind === "string" || tokens[j]?.kind === "word") {
        labels.push(tokens[j++].text);
      }
      if (tokens[j]?.text !== "{") return skipExpression(tokens, j);
      const block = node(t.text, labels, t.line);
      into.blocks.push(block);
      i = parseBody(tokens, j + 1, block);
    } else i++;
  }
  return i;
}

/** Skips an attribute's value: to a newline or `}` outside any bracket. */
function skipExpression(tokens: Token[], start: number): number {
  let depth = 0;
  let i = start;
  for (; i < tokens.length; i++) {
    const t = tokens[i];
    if (depth === 0 && (t.kind === "newline" || t.text === "}")) return i;
    if (t.text === "(" || t.text === "[" || t.text === "{") depth++;
    if (t.text === ")" || t.text === "]" || t.text === "}") depth--;
  }
  return i;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  const push = (kind: Token["kind"], value: string, at = line) =>
    tokens.push({ kind, text: value, line: at });
  while (i < text.length) {
    const c = text[i];
    if (c === "\n") {
      push("newline", c);
      line++;
      i++;
    } else if (c === "#" || text.startsWith("//", i)) {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (text.startsWith("/*", i)) {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? text.length : end + 2;
      line += countLines(text, i, stop);
      i = stop;
    } else if (c === '"') {
      const end = endOfString(text, i);
      push("string", text.slice(i + 1, end - 1));
      line += countLines(text, i, end);
      i = end;
    } else if (
      text.startsWith("<<", i) && /^<<-?[A-Za-z_]/.test(text.slice(i, i + 4))
    ) {
      const m = /^<<-?([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i))!;
      const close = new RegExp(`\\n[ \\t]*${m[1]}[ \\t]*(?=\\n|$)`, "g");
      close.lastIndex = i;
      const found = close.exec(text);
      const end = found ? found.index + found[0].length : text.length;
      push("string", "");
      line += countLines(text, i, end);
      i = end;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i, i + 200))!;
      push("word", m[0]);
      i += m[0].length;
    } else if (/\s/.test(c)) i++;
    else {
      push("punct", c);
      i++;
    }
  }
  return tokens;
}

/** Index after the closing quote of the string opening at `start`. */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\") i += 2;
    else if (c === '"') return i + 1;
    else if ((c === "$" || c === "%") && text[i + 1] === "{") {
      i = endOfTemplate(text, i + 2);
    } else i++;
  }
  return i;
}

/** Index after the `}` closing a `${` template, which may hold strings. */
function endOfTemplate(text: string, start: number): number {
  let depth = 1;
  let i = start;
  while (i < text.length && depth > 0) {
    const c = text[i];
    if (c === '"') i = endOfString(text, i);
    else {
      if (c === "{") depth++;
      if (c === "}") depth--;
      i++;
    }
  }
  return i;
}

function countLines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (text[i] === "\n") n++;
  return n;
}
