/**
 * Flows: match a message from a source to the flows that read it, resolve
 * each flow's target and event type, and hand the event to the hub.
 * A message is checked against every matching flow before anything is sent,
 * so it is delivered whole or refused whole, never half.
 *
 * @module
 */

import { type Audience, EVERYONE } from "./audience.ts";
import {
  compileExpression,
  evaluate,
  type Expression,
  isExpression,
  MAX_TARGET_NAMES,
  type Message,
  renderName,
  renderNames,
} from "./expression.ts";
import type { Hub } from "./hub.ts";

/** The SSE connector's operations, as in the seed. */
export type Operation = "broadcast" | "send_to_room" | "send_to_user";

/** A flow as written in the config, after validation. */
export interface FlowSpec {
  readonly name: string;
  readonly source: string;
  /** Matches the source's key: a route for REST, a routing key for AMQP. */
  readonly matches: (key: string) => boolean;
  readonly hub: Hub;
  readonly operation: Operation;
  readonly target?: string;
  readonly event?: string;
}

/** What became of a message. */
export type Outcome =
  | { readonly ok: true; readonly flows: number; readonly delivered: number }
  | {
    readonly ok: false;
    readonly code: "no_flow" | "bad_target" | "bad_event";
    readonly reason: string;
  };

/** Routes messages of every source to their flows. */
export interface Router {
  /** Sends `message`, which arrived at `source` under `key`, through its flows. */
  route(source: string, key: string, message: Message): Outcome;
  /** Names of the flows that read from `source`. */
  flowsOf(source: string): readonly string[];
}

interface CompiledFlow extends FlowSpec {
  readonly targetExpression?: Expression;
  readonly eventExpression?: Expression;
}

const DEFAULT_EVENT = "message";
// deno-lint-ignore no-control-regex
const FIELD_SAFE = /^[^\r\n\u0000]+$/;

/** Compiles flows once at start. */
export function createRouter(specs: readonly FlowSpec[]): Router {
  const bySource = new Map<string, CompiledFlow[]>();
  for (const spec of specs) {
    const compiled: CompiledFlow = {
      ...spec,
      targetExpression: spec.target === undefined
        ? undefined
        : compileExpression(spec.target),
      eventExpression: spec.event !== undefined && isExpression(spec.event)
        ? compileExpression(spec.event)
        : undefined,
    };
    const list = bySource.get(spec.source) ?? [];
    list.push(compiled);
    bySource.set(spec.source, list);
  }

  return {
    route(source, key, message) {
      const flows = bySource.get(source)?.filter((f) => f.matches(key)) ?? [];
      if (flows.length === 0) {
        return {
          ok: false,
          code: "no_flow",
          reason: `no flow matches "${key}"`,
        };
      }
      const plans: { flow: CompiledFlow; audience: Audience; event: string }[] =
        [];
      for (const flow of flows) {
        const audience = resolveAudience(flow, message);
        if (typeof audience === "string") {
          return { ok: false, code: "bad_target", reason: audience };
        }
        const event = resolveEvent(flow, message);
        if (event === undefined) {
          return {
            ok: false,
            code: "bad_event",
            reason:
              `flow ${flow.name}: ${flow.event} is not a usable event name`,
          };
        }
        plans.push({ flow, audience, event });
      }
      const data = JSON.stringify(message.input);
      let delivered = 0;
      for (const { flow, audience, event } of plans) {
        delivered += flow.hub.publish(audience, event, data);
      }
      return { ok: true, flows: plans.length, delivered };
    },
    flowsOf(source) {
      return (bySource.get(source) ?? []).map((f) => f.name);
    },
  };
}

/** The audience, or a reason why the target cannot be used. */
function resolveAudience(
  flow: CompiledFlow,
  message: Message,
): Audience | string {
  if (flow.operation === "broadcast") return EVERYONE;
  const expression = flow.targetExpression!;
  const value = evaluate(expression, message);
  const names = renderNames(value);
  if (names === undefined) {
    const found = value === undefined
      ? "is missing"
      : value === ""
      ? "is empty"
      : Array.isArray(value)
      ? `is a list that is empty, longer than ${MAX_TARGET_NAMES} or holds something other than strings and numbers`
      : `is ${value === null ? "null" : typeof value}, not a string or number`;
    return `flow ${flow.name}: target ${expression.text} ${found}`;
  }
  return { kind: flow.operation === "send_to_room" ? "room" : "user", names };
}

/** The event type, or undefined when an expression yields an unusable one. */
function resolveEvent(
  flow: CompiledFlow,
  message: Message,
): string | undefined {
  if (flow.eventExpression === undefined) return flow.event ?? DEFAULT_EVENT;
  const value = evaluate(flow.eventExpression, message);
  if (value === undefined || value === null) return DEFAULT_EVENT;
  const name = renderName(value);
  return name !== undefined && FIELD_SAFE.test(name) ? name : undefined;
}
