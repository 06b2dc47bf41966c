/**
 * Mycel's `flow "name" { from {...} to {...} transform {...} }`. On a flow
 * fed by RabbitMQ, Mycel's `input` is an envelope; its expressions (targets,
 * events, transform and filter) are rewritten to hypha's `input` (the body)
 * and `meta` (the rest); on a REST flow only `input.headers` moves (to
 * `meta.headers`). A target that starts with `input.` or `meta.` is an
 * expression in hypha, any other is a room or user name.
 *
 * @module
 */

import {
  type Block,
  lookup,
  type Mapping,
  readBlock,
  where,
} from "./context.ts";
import { inlineConstants } from "./constants.ts";
import { rewriteEnvelope } from "./envelope.ts";
import {
  type ReadExpression,
  readFilter,
  readTransform,
} from "./flow_parts.ts";
import { evaluate } from "./values.ts";

/** Reads flow `block` (its TOML path is ["flow", name]). */
export function readFlow(m: Mapping, block: Block): void {
  const fromConnector = connectorOf(m, block, "from");
  const type = lookup(m.raw, ["connector", fromConnector ?? "", "type"]);
  const envelope = type === "mq" ? "mq" : type === "rest" ? "rest" : undefined;
  const expression = (b: Block, key: string, raw: unknown) =>
    readExpression(m, b, key, raw, envelope);
  if (Array.isArray(block.json.to) && block.json.to.length > 1) {
    m.fail(
      block,
      "to",
      "a hypha flow has one destination; write one flow per to block",
    );
    return;
  }
  readBlock(m, block, {
    from: {
      block: (m, b) =>
        readBlock(m, b, {
          connector: "copy",
          operation: {
            read: (m, b, v) => {
              const star = envelope === "mq" && v === "*";
              m.set(
                [...b.path, "operation"],
                star ? "#" : v,
                where(b, "operation"),
              );
              if (star) {
                m.note(
                  [...b.path, "operation"],
                  "differs",
                  'Mycel\'s "*" alone takes every routing key; hypha writes that "#" ("*" is one word)',
                );
              }
            },
          },
          filter: {
            take: () => readFilter(m, b, block.path, expression),
          },
        }),
    },
    to: {
      block: (m, b) =>
        readTo(m, b, expression, connectorType(m, block, "to") === "mq"),
    },
    transform: {
      block: (m, b) =>
        readTransform(m, b, [...block.path, "transform"], expression),
    },
  });
}

/** The type of the connector a flow's `from` or `to` names, if known. */
function connectorType(
  m: Mapping,
  block: Block,
  part: string,
): unknown {
  const name = connectorOf(m, block, part);
  return lookup(m.raw, ["connector", name ?? "", "type"]);
}

function connectorOf(
  m: Mapping,
  block: Block,
  part: string,
): string | undefined {
  const body = block.json[part];
  const first = Array.isArray(body) ? body[0] : body;
  const name = evaluate(
    lookup(first, ["connector"]),
    m.env,
    "run",
    m.constants,
  );
  return name.kind === "value" ? String(name.value) : undefined;
}

/** An expression attribute: quoted CEL text, a bare HCL expression, or a literal. */
function readExpression(
  m: Mapping,
  b: Block,
  key: string,
  raw: unknown,
  envelope: "mq" | "rest" | undefined,
): string | undefined {
  const v = evaluate(raw, m.env, m.mode, m.constants);
  if (v.kind === "error") {
    m.fail(b, key, v.message);
    return undefined;
  }
  let text = v.kind === "expression" ? v.text : String(v.value);
  // Targets and events are paths or names, not CEL: Mycel reads a quoted
  // "constants.x" there as the name itself.
  if (key !== "target" && key !== "event") {
    const inlined = inlineConstants(text, m.constants);
    if (!inlined.ok) {
      m.fail(b, key, `\`${text}\`: ${inlined.reason}`);
      return undefined;
    }
    text = inlined.text;
  }
  if (envelope === undefined) return text;
  const rewritten = rewriteEnvelope(text, envelope);
  if (rewritten.ok) return rewritten.text;
  m.fail(b, key, `\`${text}\`: ${rewritten.reason}`);
  return undefined;
}

/** `to { ... }`; `publishes`: it names an mq connector (a publisher). */
function readTo(
  m: Mapping,
  b: Block,
  expression: ReadExpression,
  publishes: boolean,
): void {
  readBlock(m, b, {
    connector: "copy",
    operation: "copy",
    target: { take: () => readTarget(m, b, expression, publishes) },
    event: {
      take: () => {
        const text = expression(b, "event", b.json.event);
        if (text !== undefined) {
          m.set([...b.path, "event"], text, where(b, "event"));
        }
      },
    },
    transform: {
      block: (m, t) =>
        readTransform(m, t, [...b.path.slice(0, -1), "transform"], expression),
    },
    parallel: {
      only: true,
      advice: "a hypha flow has one destination; remove parallel",
    },
    when: {
      refuse:
        'hypha has no conditional write; use a filter on the flow instead (from { filter = "..." })',
    },
    envelope: {
      refuse:
        "hypha sends the event's data as it is; shape it with a transform block instead",
    },
  });
  // A publisher takes no operation: its target is the routing key.
  if (b.json.operation === undefined && !publishes) {
    m.set([...b.path, "operation"], "broadcast", where(b));
    m.note(
      [...b.path, "operation"],
      "default",
      '"broadcast" (what Mycel\'s SSE connector does without an operation)',
    );
  }
}

function readTarget(
  m: Mapping,
  b: Block,
  expression: ReadExpression,
  publishes: boolean,
): void {
  const original = evaluate(b.json.target, m.env, m.mode, m.constants);
  const text = expression(b, "target", b.json.target);
  if (text === undefined) return;
  const written = original.kind === "value" ? String(original.value) : "";
  if (written.startsWith("meta.")) {
    m.fail(
      b,
      "target",
      `in hypha a target starting with "meta." is an expression, in Mycel the ${
        publishes ? "routing key" : "room"
      } "${written}"; rename the ${publishes ? "routing key" : "room"}`,
    );
    return;
  }
  m.set([...b.path, "target"], text, where(b, "target"));
  if (/^(input|meta)\./.test(text)) {
    m.note(
      [...b.path, "target"],
      "differs",
      publishes
        ? "the routing key is read from the message; when the field is missing or empty hypha refuses the message (REST 422, RabbitMQ input dead-lettered)"
        : "when the field is missing or empty Mycel sends to a room named after the expression; hypha refuses the message (counted, dead-lettered)",
    );
  }
}

/**
 * Mycel hands a RabbitMQ message to one flow (the exact routing key first,
 * then a pattern); hypha to every flow whose pattern matches. Noted on each
 * flow that shares its connector with another.
 */
export function noteSharedConnectors(m: Mapping): void {
  const flows = Object.entries(
    (m.raw.flow ?? {}) as Record<string, Record<string, unknown>>,
  );
  const byConnector = new Map<string, string[]>();
  for (const [name, flow] of flows) {
    const connector = String(lookup(flow, ["from", "connector"]));
    if (lookup(m.raw, ["connector", connector, "type"]) !== "mq") continue;
    byConnector.set(connector, [...(byConnector.get(connector) ?? []), name]);
  }
  for (const names of byConnector.values()) {
    if (names.length < 2) continue;
    for (const name of names) {
      m.note(
        ["flow", name, "from", "operation"],
        "differs",
        "Mycel gives a message to one flow (exact routing key first, then a pattern); hypha to every flow whose operation matches",
      );
    }
  }
}
