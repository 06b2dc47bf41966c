import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import process from "node:process";
import { HELP } from "../src/main.ts";
import { rawSubscribe, until } from "./support/clients.ts";
import { runHypha, RUNTIME, startHypha, writeConfig } from "./support/hypha.ts";
import { onceOnDeno } from "./support/once.ts";
import { spawnChild } from "./support/spawn.ts";
import { restExample, sse } from "./support/config_builder.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** The command lines of --help's Usage section, e.g. "npm start [-- ...]". */
function usageLines(): string[] {
  const usage = HELP.split("\n\n").find((p) => p.startsWith("Usage"))!;
  return usage.split("\n").filter((l) => l.startsWith("  ")).map((l) =>
    l.trim().split(/ {2,}/)[0]
  );
}

describe(`command line (${RUNTIME})`, () => {
  test("--help prints usage and exits 0", async () => {
    const { code, output } = await runHypha(["--help"]);
    assert.equal(code, 0);
    assert.match(output, /Usage:/);
    assert.match(output, /--config PATH/);
    assert.match(output, /^ {2}check \[--config PATH\] /m);
    assert.match(output, /^ {2}translate PATH /m);
  });

  // npm start, npx deno, npx bun...: the same commands whichever runner.
  onceOnDeno.test("each usage line of --help runs as printed after npm install", async () => {
    const lines = usageLines();
    assert.ok(lines.some((l) => l.startsWith("npx deno ")), lines.join("\n"));
    for (const line of lines) {
      // The compiled binary exists only after npm run compile:bun.
      if (line.startsWith("./dist/") && !existsSync(`${ROOT}dist/hypha`)) {
        continue;
      }
      const command = line.replace(/\[(-- )?--config PATH\]/, "$1--help");
      const child = spawnChild("sh", ["-c", command], ROOT, {
        // What npm install gives: node and npm on PATH, not deno or bun.
        PATH: process.env.PATH!.split(":").filter((dir) =>
          !existsSync(`${dir}/deno`) && !existsSync(`${dir}/bun`)
        ).join(":"),
      });
      let output = "";
      child.onOutput((text) => output += text);
      assert.equal(await child.exited, 0, `${command}\n${output}`);
      assert.match(output, /Usage/, command);
    }
  });

  test("an unknown argument exits 2 and says which", async () => {
    const { code, output } = await runHypha(["--colour"]);
    assert.equal(code, 2);
    assert.match(output, /unknown argument "--colour"/);
  });

  test("a bad config file exits 2 naming the file, key path, found and expected", async () => {
    const file = await writeConfig(
      restExample({ heartbeat_interval: "thirty" }),
    );
    try {
      const { code, output } = await runHypha(["--config", file.path]);
      assert.equal(code, 2);
      assert.match(
        output,
        /hypha\.toml: connector\.sse\.heartbeat_interval: expected a duration like "30s".*got "thirty"/,
      );
      assert.doesNotMatch(output, /\n\s+at /, "no stack trace");
    } finally {
      await file.remove();
    }
  });

  test("HYPHA_CONFIG names the config file when --config is absent", async () => {
    const { code, output } = await runHypha([], {
      HYPHA_CONFIG: "/nonexistent/hypha.toml",
    });
    assert.equal(code, 2);
    assert.match(
      output,
      /\/nonexistent\/hypha\.toml: cannot read the config file/,
    );
  });

  test("a config with only an SSE connector starts with a warning", async () => {
    const hypha = await startHypha({ connector: { sse: sse() } });
    assert.ok(
      hypha.lines.some((l) => /WARN\s+no flows are configured/.test(l)),
    );
    assert.equal(await hypha.stop(), 0);
  });

  test("startup logs each listener with its URL and each flow", async () => {
    const hypha = await startHypha(restExample());
    assert.match(hypha.urls.sse, /^http:\/\/127\.0\.0\.1:\d+\/events$/);
    assert.match(hypha.urls.api, /^http:\/\/127\.0\.0\.1:\d+\//);
    for (const flow of ["notify_all", "notify_room", "notify_user"]) {
      assert.ok(
        hypha.lines.some((l) => l.includes(`flow name=${flow} `)),
        flow,
      );
    }
    assert.equal(await hypha.stop(), 0);
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`${signal} with open streams closes them and exits 0`, async () => {
      const hypha = await startHypha(restExample(), {});
      const clients = await Promise.all(
        Array.from(
          { length: 20 },
          () => rawSubscribe(hypha.urls.sse, "/events"),
        ),
      );
      await until(
        () => clients.every((c) => c.retries.length === 1),
        "every stream to open",
      );
      assert.equal(await hypha.stop(signal), 0);
      assert.ok(hypha.lines.some((l) => /INFO\s+stopped/.test(l)));
      // The server ended every stream, after a second retry: hint.
      await Promise.all(clients.map((c) => c.closed));
      for (const c of clients) assert.equal(c.retries.length, 2);
    });
  }
});
