import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";

const ROOT = new URL("../", import.meta.url).pathname;

/** "file runner" for each scenario a test file marks run-once. */
function marked(): string[] {
  const files = [
    ...readdirSync(`${ROOT}tests`).filter((f) => f.endsWith(".test.ts")),
    ...readdirSync(`${ROOT}tests/serial`).filter((f) => f.endsWith(".ts"))
      .map((f) => `serial/${f}`),
  ];
  return files.flatMap((file) => {
    const source = readFileSync(`${ROOT}tests/${file}`, "utf8");
    const runners = new Set(
      [...source.matchAll(/\bonceOn(Deno|Bun)\.(test|describe)\(/g)].map((m) =>
        m[1].toLowerCase()
      ),
    );
    return [...runners].map((runner) => `${file} ${runner}`);
  });
}

/** "file runner" for each row of CONTRIBUTING.md's run-once table. */
function listed(): string[] {
  const text = readFileSync(`${ROOT}CONTRIBUTING.md`, "utf8");
  const section = text.split("### Scenarios that run once\n")[1]
    .split("\n### ")[0];
  return [...section.matchAll(/^\| `([^`]+)`.*\| (deno|bun) +\|[^|]*\|$/gm)]
    .map((m) => `${m[1]} ${m[2]}`);
}

describe("scenarios that run once", () => {
  test("CONTRIBUTING.md's table names each file that marks one, with the runner that owns it, and no other", () => {
    const rows = listed();
    assert.ok(rows.length > 0, "no rows found in the table");
    assert.deepEqual([...new Set(rows)].sort(), marked().sort());
  });
});
