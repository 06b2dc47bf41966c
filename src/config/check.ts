/**
 * Checks that need the whole config: flows name connectors that exist and
 * operations they have, listeners do not collide, CORS is coherent.
 * Returns problems as `path: message`, and warnings to log at start.
 *
 * @module
 */

import { isExpression } from "../core/expression.ts";
import { isEventName } from "../core/field.ts";
import { checkAuth } from "./check_auth.ts";
import { checkBroker } from "./check_broker.ts";
import {
  checkEnvelope,
  checkShape,
  targetProblem,
} from "./check_flow_expressions.ts";
import { checkCluster } from "./check_cluster.ts";
import { checkMercure } from "./check_mercure.ts";
import type { Config, Flow, MqConnector, SseConnector } from "./schema.ts";

/** A problem at a key path. */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

const AMQP_URL = /^amqps?:\/\/[^\s]*$/;
const REST_OPERATION = /^(POST|PUT|PATCH) (\/[^\s]*)$/;

type Report = (path: string, message: string) => void;

/** Cross-checks a schema-valid config. */
export function checkConfig(
  config: Config,
): { problems: Problem[]; warnings: string[] } {
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const problem: Report = (path, message) => problems.push({ path, message });
  const warn = (w: string) => warnings.push(w);
  const connectors = config.connector;

  if (!Object.values(connectors).some((c) => c.type === "sse")) {
    problem("connector", 'expected at least one connector with type = "sse"');
  }
  checkListeners(connectors, config.service.admin, problem);
  for (const [name, c] of Object.entries(connectors)) {
    if (c.type === "sse") checkCors(name, c, problem);
    if (c.type === "mq") checkMq(name, c, problem, warn);
  }
  for (const [name, flow] of Object.entries(config.flow)) {
    checkFlowEnds(`flow.${name}`, flow, connectors, problem);
    checkFlowTarget(`flow.${name}`, flow, problem);
    checkShape(name, flow, problem);
    if (connectors[flow.from.connector]?.type === "mq") {
      checkEnvelope(name, flow, problem);
    }
  }
  checkMercure(config, problem);
  checkAuth(config, { problem, warn });
  checkCluster(config, { problem, warn });
  if (Object.keys(config.flow).length === 0) {
    warn(
      "no flows are configured: subscribers can connect but nothing will be sent",
    );
  }
  return { problems, warnings };
}

type Connectors = Config["connector"];

/** Two listeners on one host and port cannot both bind. */
function checkListeners(
  connectors: Connectors,
  admin: Config["service"]["admin"],
  problem: Report,
): void {
  const listeners = new Map<string, string>();
  for (const [name, c] of Object.entries(connectors)) {
    if (c.type === "mq" || c.port === 0) continue;
    const key = `${c.host}:${c.port}`;
    const other = listeners.get(key);
    if (other !== undefined) {
      problem(
        `connector.${name}.port`,
        `port ${c.port} on ${c.host} is already used by connector.${other}`,
      );
    }
    listeners.set(key, name);
  }
  const taken = admin && listeners.get(`${admin.host}:${admin.port}`);
  if (admin && admin.port !== 0 && taken !== undefined) {
    problem(
      "service.admin.port",
      `port ${admin.port} on ${admin.host} is already used by connector.${taken}`,
    );
  }
}

function checkCors(name: string, c: SseConnector, problem: Report): void {
  if (c.cors?.allow_credentials && c.cors.allowed_origins.includes("*")) {
    problem(
      `connector.${name}.cors`,
      'allow_credentials = true cannot be combined with the origin "*"; list the origins',
    );
  }
}

function checkMq(
  name: string,
  c: MqConnector,
  problem: Report,
  warn: (w: string) => void,
): void {
  if (c.url !== undefined && !(AMQP_URL.test(c.url) && URL.canParse(c.url))) {
    // Never echo the URL: it may carry a password.
    problem(
      `connector.${name}.url`,
      "expected a URL like amqp://user:password@host:5672/vhost (amqp: or amqps:)",
    );
  }
  checkBroker(name, c, problem, warn);
  if (c.consumer.auto_ack && c.consumer.dlq.enabled) {
    warn(
      `connector.${name}: with consumer.auto_ack = true the broker forgets a message on delivery, so nothing reaches the dead-letter queue`,
    );
  }
}

/** A flow reads from a rest or mq connector and sends to an sse one. */
function checkFlowEnds(
  at: string,
  flow: Flow,
  connectors: Connectors,
  problem: Report,
): void {
  const from = connectors[flow.from.connector];
  if (from === undefined) {
    problem(
      `${at}.from.connector`,
      `no connector named "${flow.from.connector}"${
        suggest(flow.from.connector, Object.keys(connectors))
      }`,
    );
  } else if (from.type === "sse") {
    problem(
      `${at}.from.connector`,
      `connector "${flow.from.connector}" is of type sse, which only sends; a flow reads from a rest or mq connector`,
    );
  } else if (from.type === "rest") {
    const op = flow.from.operation;
    if (op === undefined || !REST_OPERATION.test(op)) {
      problem(
        `${at}.from.operation`,
        `expected a route like "POST /notify/:room", got ${
          JSON.stringify(op ?? null)
        }`,
      );
    }
  } else if (flow.from.operation === "") {
    problem(`${at}.from.operation`, "expected a routing-key pattern");
  }

  const to = connectors[flow.to.connector];
  if (to === undefined) {
    problem(
      `${at}.to.connector`,
      `no connector named "${flow.to.connector}"${
        suggest(flow.to.connector, Object.keys(connectors))
      }`,
    );
  } else if (to.type !== "sse") {
    problem(
      `${at}.to.connector`,
      `connector "${flow.to.connector}" is of type ${to.type}; flows send to an sse connector`,
    );
  }
}

/** Targets fit the operation; literal event names are usable. */
function checkFlowTarget(at: string, flow: Flow, problem: Report): void {
  const { operation, target, event } = flow.to;
  if (operation === "publish") return checkFlowEvent(at, event, problem);
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
  checkFlowEvent(at, event, problem);
}

/** A literal event name must be usable. */
function checkFlowEvent(
  at: string,
  event: string | undefined,
  problem: Report,
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

/** ` (did you mean "x"?)` when a candidate is close to `word`, else "". */
export function suggest(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best === undefined ? "" : ` (did you mean "${best}"?)`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}
