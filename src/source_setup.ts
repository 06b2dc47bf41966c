/**
 * Each connector as a source, with the flows that read it: a rest connector
 * (with the presence it answers for), an mq connector that consumes, an sse
 * connector whose lifecycle events flows read.
 *
 * @module
 */

import type { AMQPTlsOptions } from "@cloudamqp/amqp-client";
import type { Config } from "./config/schema.ts";
import { compileFlow, type FlowObserver } from "./core/flows/flows.ts";
import type { Logger } from "./core/log.ts";
import type { Presence } from "./presence/tracker.ts";
import { presencesOf, tellLifecycle } from "./presence_setup.ts";
import { createRestSource } from "./sources/rest.ts";
import type { Source, SourceFlow } from "./sources/source.ts";
import { createStartupHold, startupGrace } from "./sources/startup_grace.ts";
import { consumes, targetOf, type Targets } from "./targets.ts";

/** What the sources are built from. */
export interface SourceParts {
  readonly config: Config;
  readonly targets: Targets;
  readonly presences: ReadonlyMap<string, Presence>;
  readonly log: Logger;
  readonly brokerTls?: Readonly<Record<string, AMQPTlsOptions>>;
  readonly observer: FlowObserver | undefined;
}

/** Every source of the config. */
export async function createSources(parts: SourceParts): Promise<Source[]> {
  const { config, targets, presences, log, observer } = parts;
  const flowsOf = (source: string): SourceFlow[] =>
    Object.entries(config.flow)
      .filter(([, f]) => f.from.connector === source)
      .map(([name, f]) => ({
        operation: f.from.operation,
        flow: compileFlow({
          name,
          to: targetOf(targets, name, f),
          target: f.to.target,
          event: f.to.event,
          filter: f.filter,
          transform: f.transform,
          mercure: f.to,
          observer,
        }),
      }));
  const sources: Source[] = [];
  for (const [name, c] of Object.entries(config.connector)) {
    const context = { flows: flowsOf(name), log };
    if (c.type === "rest") {
      const asked = presencesOf(config, name, presences);
      sources.push(createRestSource(name, c, context, asked));
    } else if (c.type === "sse") {
      const lifecycle = tellLifecycle(
        name,
        c,
        context,
        targets.hubs,
        presences,
      );
      if (lifecycle) sources.push(lifecycle);
    } else if (c.type === "mq" && consumes(config, name)) {
      const { createRabbitSource } = await import("./sources/rabbitmq.ts");
      const hold = createStartupHold(startupGrace(config, name), log, name);
      sources.push(
        createRabbitSource(
          name,
          c,
          { ...context, hold },
          parts.brokerTls?.[name],
        ),
      );
    }
  }
  return sources;
}
