/**
 * Scenarios that run once per suite, not once per runner. scripts/test.sh
 * runs every file under `deno test` and under `bun test`; most scenarios
 * start hypha on the runner's own runtime, so the two runs test the two
 * runtimes. A scenario that starts fixed runtimes (a Deno and a Bun
 * instance, a binary Bun compiles, `npm run` of a Deno script) does the
 * very same thing under both runners: one runner owns it and only that one
 * registers it. The other never sees it (nothing is skipped). Owners are
 * chosen so that the runners, side by side, end at about the same time
 * (CONTRIBUTING.md lists them with their times).
 *
 *   onceOnBun.test("three instances (Deno, Deno, Bun) ...", async () => {...});
 *   onceOnDeno.describe("cluster restarts under load", () => {...});
 *
 * Two objects, not `once.bun.test`: deno fmt keeps `x.test("...", fn)` on
 * one line as it does `test(...)`, so a body keeps its indent. It does not
 * for `x.describe`: a describe's name must fit on the line.
 */

import { describe, test } from "node:test";
import { RUNTIME } from "./hypha.ts";

/** The runner that registers a run-once scenario. */
type Owner = "deno" | "bun";

/** `describe` and `test`, registered only when the tests run on `owner`. */
function owned(owner: Owner) {
  // Said in the name, so either runner's output tells why it runs once.
  const why =
    ` (runs once, on the ${owner} runner: the runtimes it starts are fixed)`;
  return {
    describe(name: string, fn: () => void): void {
      if (RUNTIME === owner) describe(name + why, fn);
    },
    test(name: string, fn: () => void | Promise<void>): void {
      if (RUNTIME === owner) test(name + why, fn);
    },
  };
}

/** A scenario only the Deno runner registers. */
export const onceOnDeno = owned("deno");
/** A scenario only the Bun runner registers. */
export const onceOnBun = owned("bun");
