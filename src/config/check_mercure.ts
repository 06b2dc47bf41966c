/**
 * Checks of Mercure connectors and the flows to them: publishers need keys,
 * an auth callback does not speak Mercure, and a Mercure connector takes
 * `publish` flows (with topics) while an SSE one takes the seed's three.
 *
 * @module
 */

import { isExpression } from "../core/flows/expression.ts";
import type { Findings } from "./findings.ts";
import type { Config, Flow } from "./schema.ts";

const KEY_SOURCES = ["jwt_secret", "public_key_file", "jwks_file"] as const;

/** Checks every Mercure connector and every flow's operation. */
export function checkMercure(config: Config, findings: Findings): void {
  const { problem } = findings;
  for (const [name, c] of Object.entries(config.connector)) {
    if (c.type !== "sse" || c.protocol !== "mercure") continue;
    const at = `connector.${name}`;
    const keys = c.publisher_auth ?? c.auth;
    if (!KEY_SOURCES.some((k) => keys?.[k] !== undefined)) {
      problem(
        `${at}.publisher_auth`,
        "a Mercure hub verifies publishers' JWTs: give jwt_secret, public_key_file or jwks_file here or in auth",
      );
    }
    const given = KEY_SOURCES.filter((k) =>
      c.publisher_auth?.[k] !== undefined
    );
    if (given.length > 1) {
      problem(
        `${at}.publisher_auth`,
        `expected exactly one key source, got ${given.join(" and ")}`,
      );
    }
    if (c.auth?.callback !== undefined) {
      problem(
        `${at}.auth.callback`,
        "a Mercure connector authorizes with JWTs only; remove callback",
      );
    }
  }
  for (const [name, flow] of Object.entries(config.flow)) {
    const to = config.connector[flow.to.connector];
    if (to?.type !== "sse") continue;
    checkFlow(`flow.${name}.to`, flow, to.protocol === "mercure", findings);
  }
}

function checkFlow(
  at: string,
  flow: Flow,
  mercure: boolean,
  { problem }: Findings,
): void {
  const { operation, topic, id } = flow.to;
  const publishes = operation === "publish";
  if (mercure !== publishes) {
    problem(
      `${at}.operation`,
      mercure
        ? `connector "${flow.to.connector}" speaks Mercure: its flows use operation = "publish" with topic`
        : `publish sends Mercure updates; connector "${flow.to.connector}" needs protocol = "mercure"`,
    );
    return;
  }
  if (!publishes) {
    for (const key of ["topic", "private", "id"] as const) {
      if (flow.to[key] !== undefined) {
        problem(`${at}.${key}`, `${key} belongs to operation = "publish"`);
      }
    }
    return;
  }
  if (flow.to.target !== undefined) {
    problem(`${at}.target`, "publish takes topic, not target");
  }
  const topics = topic === undefined ? [] : [topic].flat();
  if (topics.length === 0 || topics.some((t) => t === "")) {
    problem(
      `${at}.topic`,
      'publish needs a topic: a string like "https://example.com/books/1" or an expression like "input.topic"',
    );
  }
  if (typeof flow.to.private === "string" && !isExpression(flow.to.private)) {
    problem(
      `${at}.private`,
      'expected true, false or an expression like "input.private"',
    );
  }
  if (id !== undefined && !isExpression(id)) {
    problem(`${at}.id`, 'expected an expression like "input.id"');
  }
}
