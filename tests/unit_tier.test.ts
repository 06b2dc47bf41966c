import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";

const ROOT = new URL("../", import.meta.url).pathname;

/** The files of the fast tier, as scripts/test.sh --unit reads them. */
const UNIT = readFileSync(`${ROOT}tests/unit_tier.txt`, "utf8").split("\n")
  .map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));

/** What makes a test slow or needy: processes, the broker, a browser. */
const NEEDY =
  /support\/(hypha|spawn|rabbitmq|browser|cluster|cluster_load|second_broker|tls|https|metrics|balancer)\.ts|@cloudamqp\/amqp-client|playwright|node:child_process|Deno\.Command|Bun\.spawn/;

describe("the fast test tier", () => {
  test("every file of tests/unit_tier.txt exists and starts no process, broker client or browser", () => {
    assert.ok(UNIT.length > 10);
    for (const file of UNIT) {
      assert.ok(existsSync(`${ROOT}${file}`), `${file} does not exist`);
      // This file names the patterns it looks for.
      if (file.endsWith("unit_tier.test.ts")) continue;
      const source = readFileSync(`${ROOT}${file}`, "utf8");
      assert.doesNotMatch(source, NEEDY, `${file} belongs to the full suite`);
    }
  });
});
