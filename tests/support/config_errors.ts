/** Config test helpers. */

import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../../src/config/load.ts";
import type { MqConnector } from "../../src/config/schema.ts";
import { resolveRabbitSettings } from "../../src/rabbitmq/settings.ts";

/** An SSE connector, the smallest valid config. */
export const SSE = `[connector.sse]\ntype = "sse"\nport = 3002\n`;

/** The message of the ConfigError that `text` is refused with. */
export function errorOf(
  text: string,
  env: Record<string, string> = {},
): string {
  try {
    parseConfig(text, "hypha.toml", env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail("the config was accepted");
}

/** The SSE connector plus a RabbitMQ connector "rabbit" with `lines`. */
export function parseRabbit(lines: string) {
  const { config, warnings } = parseConfig(
    `${SSE}[connector.rabbit]\ntype = "mq"\ndriver = "rabbitmq"\n${lines}`,
    "hypha.toml",
    {},
  );
  const c = config.connector.rabbit as MqConnector;
  return { settings: resolveRabbitSettings("rabbit", c), warnings };
}

/** The message of the ConfigError that RabbitMQ `lines` are refused with. */
export function rabbitErrorOf(lines: string): string {
  try {
    parseRabbit(lines);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail("the config was accepted");
}
