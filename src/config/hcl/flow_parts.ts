/**
 * A flow's filter (Mycel's `from { filter = "..." }` or `filter { condition
 * ... }`) and transform (the flow's, or its `to` block's): CEL text, read by
 * the flow's expression reader (which rewrites Mycel's envelope).
 *
 * @module
 */

import {
  type Block,
  lookup,
  type Mapping,
  nested,
  readBlock,
  where,
} from "./context.ts";

/** Reads the expression at `key` of block `b` (Mycel's form rewritten). */
export type ReadExpression = (
  b: Block,
  key: string,
  raw: unknown,
) => string | undefined;

export function readFilter(
  m: Mapping,
  from: Block,
  flowPath: readonly string[],
  expression: ReadExpression,
): void {
  const raw = from.json.filter;
  let condition: unknown = raw;
  if (Array.isArray(raw) || (raw !== null && typeof raw === "object")) {
    const body = nested(m, from, "filter");
    if (body === undefined) return;
    readBlock(m, body, {
      condition: { take: () => {} },
      on_reject: {
        only: "ack",
        advice:
          'hypha acks (and counts) a filtered-out message; remove on_reject or write "ack"',
      },
      id_field: {
        refuse: "hypha does not requeue filtered messages; remove it",
      },
      max_requeue: {
        refuse: "hypha does not requeue filtered messages; remove it",
      },
    });
    condition = body.json.condition;
    if (condition === undefined) {
      m.fail(body, undefined, 'has no condition; write condition = "<CEL>"');
      return;
    }
  }
  const text = expression(from, "filter", condition);
  if (text !== undefined) {
    m.set([...flowPath, "filter"], text, where(from, "filter"));
  }
}

export function readTransform(
  m: Mapping,
  t: Block,
  path: readonly string[],
  expression: ReadExpression,
): void {
  if (lookup(m.raw, [...path]) !== undefined) {
    m.fail(
      t,
      undefined,
      "a flow has one transform in hypha; merge the flow's and the to block's transform",
    );
    return;
  }
  if (t.json.use !== undefined) {
    m.fail(
      t,
      "use",
      "hypha has no reusable transforms; write the fields in the flow",
    );
    return;
  }
  m.set([...path], {}, where(t));
  for (const field of Object.keys(t.json)) {
    const text = expression(t, field, t.json[field]);
    if (text !== undefined) m.set([...path, field], text, where(t, field));
  }
}
