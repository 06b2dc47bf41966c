/**
 * Checks of a cluster config: `history.store` names an mq connector, and a
 * RabbitMQ source feeding a clustered SSE connector consumes one shared,
 * named queue (competing consumers), so that each input message is appended
 * to the stream once, not once per instance.
 *
 * @module
 */

import type { Findings } from "./findings.ts";
import { suggest } from "./suggest.ts";
import type { Config } from "./schema.ts";

/** Adds the problems of `history.store` and of sources in a cluster. */
export function checkCluster(config: Config, findings: Findings): void {
  const connectors = config.connector;
  const clustered = new Set<string>();
  for (const [name, c] of Object.entries(connectors)) {
    if (c.type !== "sse" || c.history.store === undefined) continue;
    const store = c.history.store;
    const target = connectors[store];
    const at = `connector.${name}.history.store`;
    if (target === undefined) {
      const mq = Object.keys(connectors).filter((n) =>
        connectors[n].type === "mq"
      );
      findings.problem(
        at,
        `no connector named "${store}"${
          suggest(store, mq)
        }; store names the mq connector whose broker holds the stream`,
      );
    } else if (target.type !== "mq") {
      findings.problem(
        at,
        `connector "${store}" is of type ${target.type}; store names an mq connector (driver = "rabbitmq")`,
      );
    } else clustered.add(name);
  }

  const warned = new Set<string>();
  for (const flow of Object.values(config.flow)) {
    const from = connectors[flow.from.connector];
    if (!clustered.has(flow.to.connector) || from?.type !== "mq") continue;
    if (warned.has(flow.from.connector)) continue;
    warned.add(flow.from.connector);
    if (from.queue.name === "") {
      findings.problem(
        `connector.${flow.from.connector}.queue.name`,
        `feeds connector.${flow.to.connector}, whose history is a shared stream; name one queue that every instance shares, so each message is appended once (a server-named queue gives every instance its own copy)`,
      );
    }
  }
}
