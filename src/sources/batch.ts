/**
 * Batch publish on a REST route: a JSON array body carries many messages.
 * Each one goes through the route's flows on its own, in order, and is
 * delivered or refused by itself; the answer lists what became of each, at
 * its index. 202 when all were delivered, 207 when some were, 422 when none.
 * An element that throws is that element's error, never the batch's 500
 * (the elements before it are already out: a retry would duplicate them).
 *
 * @module
 */

import { errorMessage } from "../core/errors.ts";
import { UnavailableError } from "../core/flows/unavailable.ts";
import { type Flow, type Outcome, sendThrough } from "../core/flows/flows.ts";
import type { Message } from "../core/flows/expression.ts";
import { json } from "../core/http/http.ts";
import { checkJsonMessage } from "../core/flows/json.ts";

/** What became of one message of a batch. */
export type ItemResult =
  | {
    readonly delivered: number;
    readonly filtered?: true;
    /** Events a broker confirmed (flows to a RabbitMQ publisher). */
    readonly published?: number;
    /** In a cluster: the event's id (`ids` when several flows sent it). */
    readonly id?: string;
    readonly ids?: readonly string[];
  }
  | { readonly error: string; readonly reason: string };

/** A whole batch's answer, and its items for the source's counters. */
export interface BatchAnswer {
  readonly response: Response;
  readonly results: readonly ItemResult[];
}

/**
 * Synchronous work after which a batch lets the event loop run (health
 * checks, other publishers) before its next element: each element's CEL is
 * bounded (cel_budget.ts), a batch of them is max_batch times that.
 */
const YIELD_AFTER_MS = 10;

/** Why a batch cannot be taken at all, or undefined when it can. */
export function batchProblem(
  items: readonly unknown[],
  maxBatch: number,
): string | undefined {
  if (items.length === 0) return "batch is empty";
  if (items.length > maxBatch) {
    return `batch holds ${items.length} messages, more than max_batch (${maxBatch})`;
  }
  return undefined;
}

/**
 * Sends each item of `items` through `flows`; `params` (the route's path
 * params) fill each input as for one message; `meta` is shared. Items go
 * out in order without waiting for each other: a shared log pipelines the
 * appends (one confirm round trip for the batch, not one per item).
 * `report` hears of an element that threw something unexpected (a bug).
 */
export async function publishBatch(
  items: readonly unknown[],
  flows: readonly Flow[],
  params: Record<string, string>,
  meta: Message["meta"],
  key: string,
  report: (error: unknown) => void = () => {},
): Promise<BatchAnswer> {
  const shared = flows.some((f) => f.to.shared);
  let retryAfter = 0;
  /** Why this item was not sent: a target away, or a bug. */
  const failed = (error: unknown): ItemResult => {
    if (!(error instanceof UnavailableError)) {
      report(error);
      return { error: "error", reason: errorMessage(error) };
    }
    retryAfter = error.retryAfterSeconds;
    return { error: "unavailable", reason: errorMessage(error) };
  };
  const one = (item: unknown): ItemResult | Promise<ItemResult> => {
    const checked = checkJsonMessage(item);
    if (!checked.ok) {
      return {
        error: checked.code,
        reason: checked.reason.replace(/^body/, "message"),
      };
    }
    const input = { ...checked.value, ...params };
    try {
      const sent = sendThrough(flows, { input, meta }, key);
      return sent instanceof Promise
        ? sent.then((o) => itemResult(o, shared), failed)
        : itemResult(sent, shared);
    } catch (error) {
      return failed(error);
    }
  };
  const pending: (ItemResult | Promise<ItemResult>)[] = [];
  let since = performance.now();
  for (const item of items) {
    pending.push(one(item));
    if (performance.now() - since >= YIELD_AFTER_MS) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      since = performance.now();
    }
  }
  const results = await Promise.all(pending);
  let delivered = 0;
  let ok = 0;
  for (const result of results) {
    if ("error" in result) continue;
    ok++;
    delivered += result.delivered;
  }
  // Nothing taken because the shared log is away: retry later, like one.
  const away = ok === 0 &&
    results.every((r) => "error" in r && r.error === "unavailable");
  const status = away ? 503 : ok === items.length ? 202 : ok > 0 ? 207 : 422;
  const body = { delivered, accepted: ok, refused: items.length - ok, results };
  return {
    response: away
      ? json(status, body, { "retry-after": String(retryAfter) })
      : json(status, body),
    results,
  };
}

/** One item's result; in a cluster it says the id(s) the event got. */
function itemResult(outcome: Outcome, shared: boolean): ItemResult {
  if (!outcome.ok) return { error: outcome.code, reason: outcome.reason };
  if (outcome.flows === 0) return { delivered: 0, filtered: true };
  const base = outcome.published > 0
    ? { delivered: outcome.delivered, published: outcome.published }
    : { delivered: outcome.delivered };
  if (!shared) return base;
  return outcome.ids.length === 1
    ? { ...base, id: outcome.ids[0] }
    : { ...base, ids: outcome.ids };
}
