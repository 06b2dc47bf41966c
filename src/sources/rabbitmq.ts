/**
 * The "mq" connector with driver "rabbitmq". Placeholder until the RabbitMQ
 * source lands: refuses to start so a config using it fails loudly.
 *
 * @module
 */

import type { MqConnector } from "../config/schema.ts";
import type { Source, SourceContext } from "./source.ts";

/** Creates the RabbitMQ source. */
export function createRabbitSource(
  name: string,
  _connector: MqConnector,
  _context: SourceContext,
): Source {
  throw new Error(
    `connector.${name}: the rabbitmq driver is not available yet`,
  );
}
