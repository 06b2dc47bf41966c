import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { onceOnBun } from "./support/once.ts";
import { spawnChild } from "./support/spawn.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const FIXTURE = "./tests/fixtures/test_sh/progress.fixture.ts";

/**
 * Runs scripts/test.sh on the fixture; lets each runner's second test pass
 * once that runner's first line has been seen, prefixed, while it runs.
 */
async function runScript(fail: boolean) {
  const dir = await mkdtemp(join(tmpdir(), "hypha-test-sh-"));
  try {
    const child = spawnChild(
      "bash",
      ["scripts/test.sh", "--no-static", FIXTURE],
      ROOT,
      { HYPHA_FIXTURE_DIR: dir, HYPHA_FIXTURE_FAIL: fail ? "1" : "0" },
    );
    let output = "";
    const seen = new Set<string>();
    child.onOutput((text) => {
      output += text;
      for (const runtime of ["deno", "bun"]) {
        const line = new RegExp(`^\\[${runtime}\\] .*first test done`, "m");
        if (!seen.has(runtime) && line.test(output)) {
          seen.add(runtime);
          void writeFile(join(dir, `go-${runtime}`), "");
        }
      }
    });
    const code = await child.exited;
    // Colours off, for matching.
    // deno-lint-ignore no-control-regex
    return { code, output: output.replace(/\x1b\[[0-9;]*m/g, "") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// The script runs both runners on the fixture whichever runner runs this.
onceOnBun.describe("scripts/test.sh", () => {
  test("shows each runner's lines, prefixed, while the runners still run, and closes with the counts", async () => {
    const { code, output } = await runScript(false);
    assert.equal(code, 0, output);
    assert.match(output, /^\[deno\] .*second test waits/m);
    assert.match(output, /^\[bun\] \(pass\) second test waits/m);
    assert.match(output, /== result under Deno\nok \| 3 passed/);
    assert.match(output, /== result under Bun\n 3 pass\n 0 fail/);
    assert.match(
      output,
      /\ndeno: 3 passed, 0 failed; bun: 3 passed, 0 failed\n6 passed, 0 failed\n$/,
    );
  });

  test("a failure is listed again under each runtime's result, and the exit code is 1", async () => {
    const { code, output } = await runScript(true);
    assert.equal(code, 1, output);
    const deno = output.slice(output.indexOf("== result under Deno"));
    assert.match(deno, /FAILURES[\s\S]*a failing test is listed again/);
    const bun = output.slice(output.indexOf("== result under Bun"));
    assert.match(bun, /^\(fail\) a failing test is listed again/m);
    assert.match(output, /\n4 passed, 2 failed\n$/);
  });
});
