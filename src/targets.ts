/**
 * What flows send to, by connector name: an SSE connector's hub (with the
 * flow's operation) or an mq connector's publisher. The app builds each
 * flow's Target here (src/core/flows/target.ts), so the core never knows which,
 * and decides which mq connectors also consume.
 *
 * @module
 */

import type { AMQPTlsOptions } from "@cloudamqp/amqp-client";
import type { Config } from "./config/schema.ts";
import type { Hub } from "./core/hub/hub.ts";
import type { Logger } from "./core/log.ts";
import { hubTarget, type Target } from "./core/flows/target.ts";
import type { Publisher } from "./rabbitmq/publisher.ts";

/** What flows send to: SSE hubs and RabbitMQ publishers, by connector name. */
export interface Targets {
  readonly hubs: ReadonlyMap<string, Hub>;
  readonly publishers: ReadonlyMap<string, Publisher>;
}

/** The target of `flow` (the config check made sure it exists). */
export function targetOf(
  targets: Targets,
  flow: string,
  f: Config["flow"][string],
): Target {
  const hub = targets.hubs.get(f.to.connector);
  if (hub !== undefined) return hubTarget(hub, f.to.operation!);
  return targets.publishers.get(f.to.connector)!.target(
    flow,
    f.from.connector,
  );
}

/** A publisher for each mq connector with a `publisher` table. */
export async function createPublishers(
  config: Config,
  log: Logger,
  brokerTls: Readonly<Record<string, AMQPTlsOptions>> | undefined,
  publishers: Map<string, Publisher>,
): Promise<void> {
  for (const [name, c] of Object.entries(config.connector)) {
    if (c.type !== "mq" || c.publisher === undefined) continue;
    const { createPublisher } = await import("./rabbitmq/publisher.ts");
    publishers.set(name, createPublisher(name, c, log, brokerTls?.[name]));
  }
}

/**
 * Whether mq connector `name` consumes: not when it only holds a cluster's
 * stream, or only publishes.
 */
export function consumes(config: Config, name: string): boolean {
  if (Object.values(config.flow).some((f) => f.from.connector === name)) {
    return true;
  }
  const c = config.connector[name];
  const publishes = c?.type === "mq" && c.publisher !== undefined;
  const store = Object.values(config.connector).some((other) =>
    other.type === "sse" && other.history.store === name
  );
  return !publishes && !store;
}
