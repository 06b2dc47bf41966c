/**
 * Flows: resolve each flow's target and event type for a message, and hand
 * the event to the flow's target (an SSE hub, a RabbitMQ publisher: see
 * target.ts). Which flows a message matches is the source's business (a
 * route for REST, a routing-key pattern for AMQP); here a message is checked
 * against every one of them before anything is sent: all or nothing.
 *
 * @module
 */

import type { Audience } from "../history/audience.ts";
import {
  compileExpression,
  type Expression,
  isExpression,
  type Message,
} from "./expression.ts";
import {
  compileShape,
  type FlowShape,
  passesFilter,
  transformData,
} from "./flow_shape.ts";
import {
  compileMercure,
  type MercureFlow,
  type MercureSpec,
  resolveUpdate,
} from "./flow_mercure.ts";
import { resolveEvent, resolveNames } from "./flow_target.ts";
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
  /** `publish`: the Mercure update's topics, privacy and id. */
  readonly mercure?: MercureSpec;
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
  readonly update?: MercureFlow;
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
    update: spec.to.publishesUpdates
      ? compileMercure(spec.mercure ?? {})
      : undefined,
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
    update?: { readonly audience: Audience; readonly id: string };
  }[] = [];
  for (const flow of flows) {
    const taken = passesFilter(flow.name, flow.shape, message);
    if (taken === false) continue;
    if (typeof taken !== "boolean") {
      const code = taken.limit ? "cel_limit" : "bad_filter";
      return { ok: false, code, reason: taken.reason };
    }
    const update = flow.update === undefined
      ? undefined
      : resolveUpdate(flow.name, flow.update, message);
    if (typeof update === "string") {
      return { ok: false, code: "bad_target", reason: update };
    }
    const names = update === undefined
      ? resolveNames(flow, message)
      : undefined;
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
    plans.push({ flow, names, event, data: shaped.data, update });
  }
  // All or nothing where it can be known before sending: a target away.
  for (const { flow } of plans) {
    const away = flow.to.away();
    if (away !== undefined) throw away;
  }
  let body: string | undefined;
  const appended = plans.map(({ flow, names, event, data, update }) =>
    flow.to.send({
      names,
      event,
      data: data ?? (body ??= JSON.stringify(message.input)),
      key: inputId === undefined ? undefined : `${inputId}/${flow.name}`,
      audience: update?.audience,
      id: update?.id,
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
