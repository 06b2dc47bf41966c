import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { rawSubscribe, until } from "./support/clients.ts";
import { restExample } from "./support/configs.ts";
import { runHypha, RUNTIME, startHypha, writeConfig } from "./support/hypha.ts";

describe(`command line (${RUNTIME})`, () => {
  test("--help prints usage and exits 0", async () => {
    const { code, output } = await runHypha(["--help"]);
    assert.equal(code, 0);
    assert.match(output, /Usage:/);
    assert.match(output, /--config PATH/);
  });

  test("an unknown argument exits 2 and says which", async () => {
    const { code, output } = await runHypha(["--colour"]);
    assert.equal(code, 2);
    assert.match(output, /unknown argument "--colour"/);
  });

  test("a bad config file exits 2 naming the file, key path, found and expected", async () => {
    const file = await writeConfig(
      restExample(`heartbeat_interval = "thirty"`),
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
    const hypha = await startHypha(
      `[connector.sse]\ntype = "sse"\nhost = "127.0.0.1"\nport = 0\n`,
    );
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
