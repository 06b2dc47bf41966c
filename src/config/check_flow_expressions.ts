/**
 * Start-time checks of what a flow reads from a message: its target (an
 * expression or a literal name), its CEL filter and transform (compiled
 * here, so a mistake names the key and the position), and, on a RabbitMQ
 * flow, expressions written for Mycel's envelope (`input.body.x`), which
 * would reject every message at run time.
 *
 * @module
 */

import { isExpression, readsMessage } from "../core/flows/expression.ts";
import { isEventName } from "../core/hub/field.ts";
import { compileShape, ShapeError } from "../core/flows/flow_shape.ts";
import { checkName, DEFAULT_QUERY_LIMITS } from "../core/http/query.ts";
import type { Findings } from "./findings.ts";
import type { Flow } from "./schema.ts";

/** Why `target` cannot be used by `operation`, or undefined. */
export function targetProblem(
  operation: "send_to_room" | "send_to_user",
  target: string,
): string | undefined {
  const kind = operation === "send_to_room" ? "room" : "user";
  if (readsMessage(target)) {
    return isExpression(target)
      ? undefined
      : `expected an expression like "input.${
        kind === "room" ? "room" : "user_id"
      }" or "meta.headers.${kind}", got ${JSON.stringify(target)}`;
  }
  const reason = target === ""
    ? "is empty"
    : checkName(kind, target, DEFAULT_QUERY_LIMITS);
  if (reason === undefined) return undefined;
  return `${
    JSON.stringify(target)
  } is not a valid ${kind} name (${reason}); a target is a ${kind} name, or an expression starting with input. or meta.`;
}

/** Compiles the flow's filter and transform; reports what does not compile. */
export function checkShape(
  name: string,
  flow: Flow,
  { problem }: Findings,
): void {
  const at = `flow.${name}`;
  if (
    flow.transform !== undefined && Object.keys(flow.transform).length === 0
  ) {
    problem(`${at}.transform`, 'expected at least one field = "<CEL>"');
  }
  for (const path of ["filter", "transform"] as const) {
    try {
      compileShape(
        name,
        path === "filter" ? flow.filter : undefined,
        path === "transform" ? flow.transform : undefined,
      );
    } catch (error) {
      if (!(error instanceof ShapeError)) throw error;
      problem(error.path, error.reason);
    }
  }
}

// Mycel's RabbitMQ `input` is an envelope; hypha's is the body itself.
const ENVELOPE =
  /\binput\.(body|headers|properties|routing_key|exchange)\b(\.?)/g;
const MAPPED: Record<string, string> = {
  headers: "meta.headers",
  properties: "meta.properties",
  routing_key: "meta.routing_key",
  exchange: "meta.exchange",
};

/** hypha's spelling of an expression written for Mycel's envelope. */
export function fromEnvelope(text: string): string {
  return text.replace(
    ENVELOPE,
    (_, part: string, dot: string) =>
      part === "body" ? `input${dot}` : `${MAPPED[part]}${dot}`,
  );
}

/**
 * Reports every expression of a RabbitMQ flow that reads Mycel's envelope
 * (`input.body.x`, `input.headers.x`, `input.routing_key`...).
 */
export function checkEnvelope(
  name: string,
  flow: Flow,
  { problem }: Findings,
): void {
  const at = `flow.${name}`;
  const expressions: [string, string | undefined][] = [
    [`${at}.to.target`, flow.to.target],
    [`${at}.to.event`, flow.to.event],
    [`${at}.filter`, flow.filter],
    ...Object.entries(flow.transform ?? {}).map(([field, text]) =>
      [`${at}.transform.${field}`, text] as [string, string]
    ),
  ];
  for (const [path, text] of expressions) {
    if (text === undefined || !new RegExp(ENVELOPE.source).test(text)) continue;
    problem(
      path,
      `${
        JSON.stringify(text)
      } reads Mycel's RabbitMQ envelope, which hypha does not have: ` +
        "here input is the message body itself, and the routing key, exchange, headers and properties are meta.routing_key, meta.exchange, meta.headers.<name> and meta.properties.<name>; " +
        `write ${JSON.stringify(fromEnvelope(text))}`,
    );
  }
}

/** Targets fit the operation; literal event names are usable. */
export function checkFlowTarget(
  at: string,
  flow: Flow,
  findings: Findings,
): void {
  const { problem } = findings;
  const { operation, target, event } = flow.to;
  if (operation === "publish") return checkFlowEvent(at, event, findings);
  if (operation === undefined) {
    problem(
      `${at}.to.operation`,
      'expected one of "broadcast", "send_to_room", "send_to_user"',
    );
    return;
  }
  if (operation === "broadcast" && target !== undefined) {
    problem(
      `${at}.to.target`,
      "broadcast sends to everyone and takes no target",
    );
  }
  if (operation !== "broadcast") {
    if (target === undefined) {
      problem(
        `${at}.to.target`,
        `${operation} needs a target like "input.${
          operation === "send_to_room" ? "room" : "user_id"
        }"`,
      );
    } else {
      const reason = targetProblem(operation, target);
      if (reason !== undefined) problem(`${at}.to.target`, reason);
    }
  }
  checkFlowEvent(at, event, findings);
}

/** A literal event name must be usable. */
function checkFlowEvent(
  at: string,
  event: string | undefined,
  { problem }: Findings,
): void {
  if (event !== undefined && !isExpression(event) && !isEventName(event)) {
    problem(
      `${at}.to.event`,
      `expected an event name or an expression like "input.type", got ${
        JSON.stringify(event)
      }`,
    );
  }
}
