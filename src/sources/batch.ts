/**
 * Batch publish on a REST route: a JSON array body carries many messages.
 * Each one goes through the route's flows on its own, in order, and is
 * delivered or refused by itself; the answer lists what became of each, at
 * its index. 202 when all were delivered, 207 when some were, 422 when none.
 *
 * @module
 */

import { LogUnavailableError } from "../cluster/unavailable.ts";
import { type Flow, type Outcome, sendThrough } from "../core/flows.ts";
import type { Message } from "../core/expression.ts";
import { json } from "../core/http.ts";
import { checkJsonMessage } from "../core/json.ts";

/** What became of one message of a batch. */
export type ItemResult =
  | { readonly delivered: number; readonly filtered?: true }
  | { readonly error: string; readonly reason: string };

/** A whole batch's answer, and its items for the source's counters. */
export interface BatchAnswer {
  readonly response: Response;
  readonly results: readonly ItemResult[];
}

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
 * params) fill each input as for one message; `meta` is shared.
 */
export async function publishBatch(
  items: readonly unknown[],
  flows: readonly Flow[],
  params: Record<string, string>,
  meta: Message["meta"],
  key: string,
): Promise<BatchAnswer> {
  const results: ItemResult[] = [];
  let delivered = 0;
  let ok = 0;
  for (const item of items) {
    const checked = checkJsonMessage(item);
    if (!checked.ok) {
      results.push({
        error: checked.code,
        reason: checked.reason.replace(/^body/, "message"),
      });
      continue;
    }
    const input = { ...checked.value, ...params };
    let outcome: Outcome;
    try {
      const sent = sendThrough(flows, { input, meta }, key);
      outcome = sent instanceof Promise ? await sent : sent;
    } catch (error) {
      // A shared log that cannot confirm now: this one was not sent.
      if (!(error instanceof LogUnavailableError)) throw error;
      results.push({ error: "unavailable", reason: error.message });
      continue;
    }
    if (outcome.ok) {
      ok++;
      delivered += outcome.delivered;
      results.push(
        outcome.flows === 0
          ? { delivered: 0, filtered: true }
          : { delivered: outcome.delivered },
      );
    } else results.push({ error: outcome.code, reason: outcome.reason });
  }
  const status = ok === items.length ? 202 : ok > 0 ? 207 : 422;
  return {
    response: json(status, {
      delivered,
      accepted: ok,
      refused: items.length - ok,
      results,
    }),
    results,
  };
}
