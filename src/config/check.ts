/**
 * Checks that need the whole config: flows name connectors that exist and
 * operations they have, listeners do not collide, CORS is coherent.
 * Returns problems as `path: message`, and warnings to log at start.
 *
 * @module
 */

import { checkAuth } from "./check_auth.ts";
import { checkBroker, checkPublishTarget } from "./check_broker.ts";
import {
  checkEnvelope,
  checkFlowTarget,
  checkShape,
} from "./check_flow_expressions.ts";
import { checkCluster } from "./check_cluster.ts";
import { checkMercure } from "./check_mercure.ts";
import { collectFindings, type Findings, type Problem } from "./findings.ts";
import { suggest } from "./suggest.ts";
import {
  type Config,
  type Flow,
  LIFECYCLE_OPERATIONS,
  type MqConnector,
  type SseConnector,
} from "./schema.ts";

const LIFECYCLE: readonly string[] = LIFECYCLE_OPERATIONS;

const AMQP_URL = /^amqps?:\/\/[^\s]*$/;
const REST_OPERATION = /^(POST|PUT|PATCH) (\/[^\s]*)$/;

/** Cross-checks a schema-valid config. */
export function checkConfig(
  config: Config,
): { problems: Problem[]; warnings: string[] } {
  const findings = collectFindings();
  const connectors = config.connector;

  if (!Object.values(connectors).some((c) => c.type === "sse")) {
    findings.problem(
      "connector",
      'expected at least one connector with type = "sse"',
    );
  }
  checkListeners(connectors, config.service.admin, findings);
  for (const [name, c] of Object.entries(connectors)) {
    if (c.type === "sse") checkCors(name, c, findings);
    if (c.type === "mq") checkMq(name, c, findings);
  }
  for (const [name, flow] of Object.entries(config.flow)) {
    checkFlowEnds(`flow.${name}`, flow, connectors, findings);
    const to = connectors[flow.to.connector];
    if (to?.type === "mq") checkPublishTarget(`flow.${name}`, flow, findings);
    else if (to?.type === "sse") {
      checkFlowTarget(`flow.${name}`, flow, findings);
    }
    checkShape(name, flow, findings);
    if (connectors[flow.from.connector]?.type === "mq") {
      checkEnvelope(name, flow, findings);
    }
  }
  checkMercure(config, findings);
  checkAuth(config, findings);
  checkCluster(config, findings);
  if (Object.keys(config.flow).length === 0) {
    findings.warn(
      "no flows are configured: subscribers can connect but nothing will be sent",
    );
  }
  return { problems: findings.problems, warnings: findings.warnings };
}

type Connectors = Config["connector"];

/** Two listeners on one host and port cannot both bind. */
function checkListeners(
  connectors: Connectors,
  admin: Config["service"]["admin"],
  { problem }: Findings,
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

function checkCors(
  name: string,
  c: SseConnector,
  { problem }: Findings,
): void {
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
  findings: Findings,
): void {
  const { problem, warn } = findings;
  if (c.url !== undefined && !(AMQP_URL.test(c.url) && URL.canParse(c.url))) {
    // Never echo the URL: it may carry a password.
    problem(
      `connector.${name}.url`,
      "expected a URL like amqp://user:password@host:5672/vhost (amqp: or amqps:)",
    );
  }
  checkBroker(name, c, findings);
  if (c.consumer.auto_ack && c.consumer.dlq.enabled) {
    warn(
      `connector.${name}: with consumer.auto_ack = true the broker forgets a message on delivery, so nothing reaches the dead-letter queue`,
    );
  }
}

/**
 * A flow reads from a rest or mq connector, or an sse one's lifecycle, and
 * sends to an sse one or a publisher.
 */
function checkFlowEnds(
  at: string,
  flow: Flow,
  connectors: Connectors,
  { problem }: Findings,
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
    const op = flow.from.operation;
    if (op !== undefined && !LIFECYCLE.includes(op)) {
      problem(
        `${at}.from.operation`,
        `an sse connector's operations are ${
          LIFECYCLE.join(", ")
        } (or none, for all); got ${JSON.stringify(op)}${
          suggest(op, LIFECYCLE)
        }`,
      );
    }
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
  } else if (to.type === "rest") {
    problem(
      `${at}.to.connector`,
      `connector "${flow.to.connector}" is of type rest, which only receives; flows send to an sse connector or an mq connector with a publisher`,
    );
  } else if (to.type === "mq" && to.publisher === undefined) {
    problem(
      `${at}.to.connector`,
      `connector "${flow.to.connector}" is of type mq without a publisher table; add [connector.${flow.to.connector}.publisher] to publish to RabbitMQ`,
    );
  }
}
