/**
 * Mycel hands a RabbitMQ flow an envelope as `input`: `input.body`,
 * `input.headers`, `input.properties`, `input.routing_key`,
 * `input.exchange`. hypha's `input` is the body and the rest is `meta`. This
 * rewrites the `input` references of an expression (a target path or CEL
 * text) from the one to the other, leaving string literals alone.
 *
 * @module
 */

/** The rewritten text, or why it cannot be carried over. */
export type Rewritten =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly reason: string };

/** Envelope fields and their hypha spelling (null: `input` itself). */
const FIELDS: Readonly<Record<string, string | null>> = {
  body: null,
  headers: "meta.headers",
  properties: "meta.properties",
  routing_key: "meta.routing_key",
  exchange: "meta.exchange",
};

/** Properties Mycel has that hypha keeps elsewhere, or not at all. */
const PROPERTIES: Readonly<Record<string, string | null>> = {
  redelivered: "meta.redelivered",
  delivery_tag: null,
};

/**
 * Rewrites every `input.<envelope field>` in `text`. On a REST flow
 * (`source` "rest") Mycel's `input` is the request (body, path and query
 * params) plus `input.headers`, which hypha keeps in `meta.headers`.
 */
export function rewriteEnvelope(
  text: string,
  source: "mq" | "rest" = "mq",
): Rewritten {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const literal = stringLiteralEnd(text, i);
    if (literal !== undefined) {
      out += text.slice(i, literal);
      i = literal;
    } else if (startsIdentifier(text, i, "input")) {
      const rewritten = source === "mq"
        ? rewriteReference(text, i + "input".length)
        : rewriteRestReference(text, i + "input".length);
      if (!rewritten.ok) return rewritten;
      out += rewritten.text;
      i = rewritten.end;
    } else if (/[A-Za-z0-9_]/.test(c)) {
      const m = /^[A-Za-z0-9_]+/.exec(text.slice(i))!;
      out += m[0];
      i += m[0].length;
    } else {
      out += c;
      i++;
    }
  }
  return { ok: true, text: out };
}

/** True when the identifier `name` starts at `i` (not a field `x.input`). */
export function startsIdentifier(
  text: string,
  i: number,
  name: string,
): boolean {
  if (!text.startsWith(name, i)) return false;
  const after = text[i + name.length];
  if (after !== undefined && /[A-Za-z0-9_]/.test(after)) return false;
  const before = text.slice(0, i).trimEnd().at(-1);
  return before !== ".";
}

function rewriteRestReference(
  text: string,
  at: number,
): { ok: true; text: string; end: number } {
  const field = /^\s*\.\s*headers\b/.exec(text.slice(at));
  return field === null
    ? { ok: true, text: "input", end: at }
    : { ok: true, text: "meta.headers", end: at + field[0].length };
}

function rewriteReference(
  text: string,
  at: number,
): { ok: true; text: string; end: number } | { ok: false; reason: string } {
  const field = /^\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(at));
  if (field === null) {
    return {
      ok: false,
      reason:
        "`input` alone is Mycel's whole envelope, which hypha does not have; name a part of it, such as input.body.<field> or input.headers.<name>",
    };
  }
  const name = field[1];
  let end = at + field[0].length;
  if (!(name in FIELDS)) {
    return {
      ok: false,
      reason:
        `Mycel's RabbitMQ input has no field "${name}" (it has body, headers, properties, routing_key, exchange); write input.body.${name} for a field of the message`,
    };
  }
  let replacement = FIELDS[name];
  if (name === "properties") {
    const sub = /^\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(end));
    if (sub !== null && sub[1] in PROPERTIES) {
      const moved = PROPERTIES[sub[1]];
      if (moved === null) {
        return {
          ok: false,
          reason: `input.properties.${
            sub[1]
          } has no equivalent in hypha; remove it`,
        };
      }
      replacement = moved;
      end += sub[0].length;
    }
  }
  if (replacement !== null) return { ok: true, text: replacement, end };
  // input.body.x -> input.x; input.body alone -> input.
  return { ok: true, text: "input", end };
}

/** Index after a CEL string or bytes literal starting at `i`, if one does. */
export function stringLiteralEnd(text: string, i: number): number | undefined {
  const m = /^(?:[rRbB]{1,2})?("""|'''|"|')/.exec(text.slice(i, i + 5));
  if (m === null) return undefined;
  if (i > 0 && /[A-Za-z0-9_]/.test(text[i - 1]) && m[0].length > m[1].length) {
    return undefined;
  }
  const quote = m[1];
  const raw = /[rR]/.test(m[0].slice(0, -quote.length));
  let j = i + m[0].length;
  while (j < text.length) {
    if (!raw && text[j] === "\\") j += 2;
    else if (text.startsWith(quote, j)) return j + quote.length;
    else j++;
  }
  return text.length;
}
