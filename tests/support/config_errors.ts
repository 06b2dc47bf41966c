/** Config test helpers. */

import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../../src/config/load.ts";

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
