/**
 * Notices topology deleted under a running consumer. Deleting the exchange a
 * queue is bound to drops the bindings with it; the consumer stays up and
 * receives nothing, and every publish fails NOT_FOUND (RabbitMQ 3.x tells
 * the consumer nothing). So the exchanges and the dead-letter queue are
 * checked with a passive declare (cheap: no change on the broker) every
 * `topology_check`, and the whole topology is declared again when one is
 * missing, with a WARN line.
 *
 * @module
 */

import { errorMessage } from "../core/errors.ts";
import type { AMQPChannel, AMQPClient } from "@cloudamqp/amqp-client";
import type { Fields, Logger } from "../core/log.ts";
import {
  clearLongTimeout,
  type LongTimeout,
  setLongTimeout,
} from "../core/long_timer.ts";
import type { RabbitSettings } from "../rabbitmq/settings.ts";
import { declareTopology } from "./rabbitmq_topology.ts";

/** What one check looks at: an exchange or a queue, by name. */
interface Part {
  readonly kind: "exchange" | "queue";
  readonly name: string;
}

/** The parts that can be deleted by someone else and that hypha declares. */
function partsOf(settings: RabbitSettings): Part[] {
  const parts: Part[] = [];
  if (settings.exchange !== undefined && !settings.exchange.passive) {
    parts.push({ kind: "exchange", name: settings.exchange.name });
  }
  if (settings.deadLetter !== undefined) {
    parts.push({ kind: "exchange", name: settings.deadLetter.exchange });
    parts.push({ kind: "queue", name: settings.deadLetter.queue });
  }
  return parts;
}

/** The names of the parts that are gone. */
async function missingParts(
  client: AMQPClient,
  parts: readonly Part[],
): Promise<string[]> {
  const missing: string[] = [];
  for (const part of parts) {
    // A failed passive declare closes its channel: one channel per check.
    const channel: AMQPChannel = await client.channel();
    try {
      if (part.kind === "exchange") {
        await channel.exchangeDeclare(part.name, "direct", { passive: true });
      } else {
        await channel.queueDeclare(part.name, { passive: true });
      }
    } catch (error) {
      if (client.closed) throw error;
      missing.push(`${part.kind} ${part.name}`);
    } finally {
      if (!channel.closed) await channel.close().catch(() => {});
    }
  }
  return missing;
}

/**
 * Checks the topology of a connected session every `topologyCheckMs` until
 * the returned stop is called; `queue` is the queue being consumed.
 */
export function watchTopology(
  client: AMQPClient,
  settings: RabbitSettings,
  queue: string,
  log: Logger,
  where: Fields,
): () => void {
  const parts = partsOf(settings);
  if (settings.topologyCheckMs <= 0 || parts.length === 0) return () => {};
  let stopped = false;
  let timer: LongTimeout | undefined;
  const check = async () => {
    try {
      const missing = await missingParts(client, parts);
      if (missing.length === 0 || stopped) return;
      log.warn(
        "topology deleted under a running consumer; declaring it again",
        {
          ...where,
          missing: missing.join(", "),
        },
      );
      const channel = await client.channel();
      // The queue keeps its name (a server-named one too): only bindings and
      // what was deleted are created again.
      await declareTopology(channel, {
        ...settings,
        queue: { ...settings.queue, name: queue },
      });
      await channel.close().catch(() => {});
    } catch (error) {
      // A lost connection is the session's business (it reconnects).
      if (!client.closed) {
        log.warn("topology check failed", {
          ...where,
          reason: errorMessage(error),
        });
      }
    } finally {
      if (!stopped) timer = setLongTimeout(check, settings.topologyCheckMs);
    }
  };
  timer = setLongTimeout(check, settings.topologyCheckMs);
  return () => {
    stopped = true;
    clearLongTimeout(timer);
  };
}
