/**
 * Mycel's `constants { ... }`: literal values named once, read as
 * `constants.<name>` in HCL values (see values.ts) and in CEL. hypha has no
 * constants, so in CEL text each reference is replaced by the value as a CEL
 * literal (JSON's strings, numbers, lists and maps are CEL's too).
 *
 * @module
 */

import type { Block, Mapping } from "./context.ts";
import { startsIdentifier, stringLiteralEnd } from "./envelope.ts";
import { evaluate } from "./values.ts";

/** Evaluates a `constants` block into `m.constants`; a name may be declared once. */
export function readConstants(m: Mapping, block: Block): void {
  for (const [name, raw] of Object.entries(block.json)) {
    if (Object.hasOwn(m.constants, name)) {
      m.fail(block, name, "declared twice; declare each constant once");
      continue;
    }
    const v = evaluate(raw, m.env, m.mode);
    if (v.kind === "value") m.constants[name] = v.value;
    else {
      m.fail(
        block,
        name,
        v.kind === "error" ? v.message : "a constant is a literal or env()",
      );
    }
  }
}

/** `text` with every `constants.<name>` outside string literals inlined. */
export function inlineConstants(
  text: string,
  constants: Readonly<Record<string, unknown>>,
): { ok: true; text: string } | { ok: false; reason: string } {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const literal = stringLiteralEnd(text, i);
    if (literal !== undefined) {
      out += text.slice(i, literal);
      i = literal;
    } else if (startsIdentifier(text, i, "constants")) {
      const m = /^constants\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(
        text.slice(i),
      );
      if (m === null || !Object.hasOwn(constants, m[1])) {
        return {
          ok: false,
          reason: m === null
            ? "write constants.<name>"
            : `no constant "${m[1]}" is declared`,
        };
      }
      out += JSON.stringify(constants[m[1]]);
      i += m[0].length;
    } else {
      const word = /^[A-Za-z0-9_]+/.exec(text.slice(i));
      const step = word ? word[0].length : 1;
      out += text.slice(i, i + step);
      i += step;
    }
  }
  return { ok: true, text: out };
}
