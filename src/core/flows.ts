/**
 * Flows: resolve each flow's target and event type for a message, and hand
 * the event to the flow's target (an SSE hub, a RabbitMQ publisher: see
 * target.ts). Which flows a message matches is the source's business (a
 * route for REST, a routing-key pattern for AMQP); here a message is checked
 * against every one of them before anything is sent: all or nothing.
 *
 * @module
 */

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
import { eventNameProblem } from "./field.ts";
import {
  compileShape,
  type FlowShape,
  passesFilter,
  transformData,
} from "./flow_shape.ts";
import type { Target } from "./target.ts";

export type { Operation } from "./target.ts";

/** A flow as written in the config, after validation. */
export interface FlowSpec {
  readonly name: string;
  /** Where its events go: an SSE hub's operation, a publisher. */
  readonly to: Target;
  /** An `input.`/`meta.` expression, or a literal room, user or routing key. */
  readonly target?: string;
  readonly event?: string;
  /** CEL: the flow takes only messages for which this is true. */
  readonly filter?: string;
  /** CEL per output field: the event's data becomes these fields. */
  readonly transform?: Readonly<Record<string, string>>;
  /** Told what went out, e.g. for metrics (src/ops/metrics.ts). */
  readonly observer?: FlowObserver;
}

/** Counts per event and per message, never per connection. */
export interface FlowObserver {
  /** One event went out through `flow`. */
  event(flow: FlowSpec): void;
  /** A message was sent; `seconds` from sendThrough to all appended. */
  sent(seconds: number): void;
}

/** A flow ready to send: its expressions compiled once at start. */
export interface Flow extends FlowSpec {
  readonly targetExpression?: Expression;
  readonly eventExpression?: Expression;
  readonly shape: FlowShape;
}

/** Why a message was refused. */
export type Refusal = {
  readonly ok: false;
  readonly code:
    | "no_flow"
    | "bad_target"
    | "bad_event"
    | "bad_filter"
    | "bad_transform"
    /** A filter or transform stopped by its cost bound (cel_budget.ts). */
    | "cel_limit";
  readonly reason: string;
};

/** What became of a message. */
export type Outcome =
  | {
    readonly ok: true;
    /** Flows that sent it; 0 when every matching flow's filter dropped it. */
    readonly flows: number;
    /** Connections of this process the event was queued to. */
    readonly delivered: number;
    /** Ids the events got, one per flow. */
    readonly ids: readonly string[];
    /** Events a broker confirmed (flows to a RabbitMQ publisher). */
    readonly published: number;
  }
  | Refusal;

const DEFAULT_EVENT = "message";

/** Compiles a flow's expressions. */
export function compileFlow(spec: FlowSpec): Flow {
  return {
    ...spec,
    targetExpression: spec.target !== undefined && isExpression(spec.target)
      ? compileExpression(spec.target)
      : undefined,
    eventExpression: spec.event !== undefined && isExpression(spec.event)
      ? compileExpression(spec.event)
      : undefined,
    shape: compileShape(spec.name, spec.filter, spec.transform),
  };
}

/** The refusal for a message that matched no flow under `key`. */
export function noFlow(key: string): Refusal {
  return { ok: false, code: "no_flow", reason: `no flow matches "${key}"` };
}

/**
 * Sends `message` through `flows` (the ones it matched), all or nothing.
 * Synchronous while every target is (a hub's memory log); a shared log or
 * a publisher answers once it holds the events. Throws UnavailableError,
 * before anything is sent, when a target is away.
 */
export function sendThrough(
  flows: readonly Flow[],
  message: Message,
  key: string,
  /** The input message's identity, for a shared log's dedupe window. */
  inputId?: string,
): Outcome | Promise<Outcome> {
  if (flows.length === 0) return noFlow(key);
  const observer = flows[0].observer;
  const start = observer === undefined ? 0 : performance.now();
  const plans: {
    flow: Flow;
    names?: readonly string[];
    event: string;
    data?: string;
  }[] = [];
  for (const flow of flows) {
    const taken = passesFilter(flow.name, flow.shape, message);
    if (taken === false) continue;
    if (typeof taken !== "boolean") {
      const code = taken.limit ? "cel_limit" : "bad_filter";
      return { ok: false, code, reason: taken.reason };
    }
    const names = resolveNames(flow, message);
    if (typeof names === "string") {
      return { ok: false, code: "bad_target", reason: names };
    }
    const event = resolveEvent(flow, message);
    if (typeof event !== "string") {
      return {
        ok: false,
        code: "bad_event",
        reason: `flow ${flow.name}: ${flow.event} ${event.problem}`,
      };
    }
    const shaped = transformData(flow.name, flow.shape, message);
    if ("reason" in shaped) {
      const code = shaped.limit ? "cel_limit" : "bad_transform";
      return { ok: false, code, reason: shaped.reason };
    }
    plans.push({ flow, names, event, data: shaped.data });
  }
  // All or nothing where it can be known before sending: a target away.
  for (const { flow } of plans) {
    const away = flow.to.away();
    if (away !== undefined) throw away;
  }
  let body: string | undefined;
  const appended = plans.map(({ flow, names, event, data }) =>
    flow.to.send({
      names,
      event,
      data: data ?? (body ??= JSON.stringify(message.input)),
      key: inputId === undefined ? undefined : `${inputId}/${flow.name}`,
    })
  );
  const outcome = (done: readonly { id: string; delivered: number }[]) => {
    for (const { flow } of plans) flow.observer?.event(flow);
    observer?.sent((performance.now() - start) / 1000);
    return {
      ok: true as const,
      flows: done.length,
      delivered: done.reduce((n, a) => n + a.delivered, 0),
      ids: done.map((a) => a.id),
      published: plans.reduce((n, p) => n + (p.flow.to.publishes ? 1 : 0), 0),
    };
  };
  return appended.some((a) => a instanceof Promise)
    ? Promise.all(appended).then(outcome)
    : outcome(appended as { id: string; delivered: number }[]);
}

/**
 * The names the flow's target resolves to (undefined: the target takes
 * none), or a reason why the target cannot be used.
 */
function resolveNames(
  flow: Flow,
  message: Message,
): readonly string[] | undefined | string {
  const to = flow.to;
  if (to.names === undefined) return undefined;
  const expression = flow.targetExpression;
  // A literal target (`target = "dashboard"`) is the name itself.
  if (expression === undefined) return [flow.target ?? to.fallback ?? ""];
  const value = evaluate(expression, message);
  const one = to.names === "routing_key";
  const names = one
    ? (Array.isArray(value) ? undefined : renderNames(value))
    : renderNames(value);
  if (names === undefined) {
    const found = value === undefined
      ? "is missing"
      : value === ""
      ? "is empty"
      : Array.isArray(value)
      ? one
        ? "is a list; a routing key is one string"
        : `is a list that is empty, longer than ${MAX_TARGET_NAMES} or holds something other than strings and numbers`
      : `is ${value === null ? "null" : typeof value}, not a string or number`;
    return `flow ${flow.name}: target ${expression.text} ${found}`;
  }
  // A name no subscriber can join would only pin memory in history.
  for (const name of names) {
    const problem = to.check(name);
    if (problem === undefined) continue;
    const shown = name.length > 32 ? `${name.slice(0, 32)}…` : name;
    return `flow ${flow.name}: target ${expression.text} ${
      Array.isArray(value) ? "holds" : "is"
    } ${JSON.stringify(shown)}, which ${
      one ? "is not a usable routing key" : "no subscriber can join"
    }: ${problem}`;
  }
  return names;
}

/** The event type, or what is wrong with the one an expression yields. */
function resolveEvent(
  flow: Flow,
  message: Message,
): string | { readonly problem: string } {
  if (flow.eventExpression === undefined) return flow.event ?? DEFAULT_EVENT;
  const value = evaluate(flow.eventExpression, message);
  if (value === undefined || value === null) return DEFAULT_EVENT;
  const name = renderName(value);
  if (name === undefined) return { problem: "is not a usable event name" };
  // Input must not size every frame: the bound of room and user names.
  const problem = eventNameProblem(name);
  return problem === undefined
    ? name
    : { problem: `is not a usable event name: it ${problem}` };
}
