import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, test } from "node:test";
import process from "node:process";
import { runHypha, RUNTIME, writeConfig } from "./support/hypha.ts";
import { onceOnBun } from "./support/once.ts";
import { spawnChild } from "./support/spawn.ts";
import {
  type ConfigInput,
  flow,
  rabbit,
  restExample,
  sse,
} from "./support/config_builder.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** Runs `hypha check --config <config as a file>`. */
async function check(config: string | ConfigInput, args: string[] = []) {
  const file = await writeConfig(config);
  try {
    const run = await runHypha(["check", "--config", file.path, ...args]);
    return { ...run, path: file.path };
  } finally {
    await file.remove();
  }
}

describe(`hypha check (${RUNTIME})`, () => {
  test("a valid config prints '<file>: valid' and the warnings start would log, exit 0", async () => {
    const { code, output, path } = await check({
      connector: { sse: sse() },
    });
    assert.equal(code, 0, output);
    assert.ok(output.includes(`${path}: valid`), output);
    assert.match(output, /hypha: warning: .*no flows are configured/);
  });

  test("it binds no port: a config whose port is taken is still valid", async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as { port: number }).port;
    try {
      const { code, output } = await check(
        restExample({ port }),
      );
      assert.equal(code, 0, output);
      assert.match(output, /: valid/);
    } finally {
      taken.close();
    }
  });

  test("a schema error exits 2 with the key path, and no 'valid'", async () => {
    const { code, output } = await check(
      restExample({ heartbeat_interval: "thirty" }),
    );
    assert.equal(code, 2);
    assert.match(output, /connector\.sse\.heartbeat_interval: expected/);
    assert.doesNotMatch(output, /: valid/);
  });

  test("a missing auth key file exits 2 naming the key path and the file", async () => {
    const { code, output } = await check(
      restExample({ auth: { public_key_file: "/nonexistent/hypha-key.pem" } }),
    );
    assert.equal(code, 2, output);
    assert.match(output, /connector\.sse\.auth.*\/nonexistent\/hypha-key\.pem/);
    assert.doesNotMatch(output, /: valid/);
  });

  test("a missing listener certificate exits 2 naming the key path and the file", async () => {
    const { code, output } = await check(
      restExample({
        tls: {
          cert_file: "/nonexistent/cert.pem",
          key_file: "/nonexistent/key.pem",
        },
      }),
    );
    assert.equal(code, 2, output);
    assert.match(
      output,
      /connector\.sse\.tls\.cert_file.*\/nonexistent\/cert\.pem/,
    );
  });

  test("a missing broker CA file exits 2 naming the connector and the file", async () => {
    const { code, output } = await check({
      connector: {
        sse: sse(),
        rabbit: rabbit({
          url: "amqps://guest:guest@127.0.0.1:5671",
          tls: { ca_cert: "/nonexistent/ca.pem" },
        }),
      },
      flow: {
        feed: flow(
          { connector: "rabbit" },
          { connector: "sse", operation: "broadcast" },
        ),
      },
    });
    assert.equal(code, 2, output);
    assert.match(output, /connector\.rabbit\.tls.*\/nonexistent\/ca\.pem/);
  });

  test("check PATH works without --config, and an extra argument is refused", async () => {
    const file = await writeConfig(restExample());
    try {
      const ok = await runHypha(["check", file.path]);
      assert.equal(ok.code, 0, ok.output);
      assert.ok(ok.output.includes(`${file.path}: valid`));
      const bad = await runHypha(["check", "--config", file.path, "--x"]);
      assert.equal(bad.code, 2);
      assert.match(bad.output, /unknown argument "--x"/);
    } finally {
      await file.remove();
    }
  });

  // npm runs it on Deno whichever runner.
  onceOnBun.test("npm run check-config -- PATH runs the same check, as the docs print it", async () => {
    const good = await writeConfig(restExample());
    const bad = await writeConfig(
      restExample({ heartbeat_interval: "thirty" }),
    );
    const npm = async (path: string) => {
      const child = spawnChild(
        "npm",
        ["run", "-s", "check-config", "--", path],
        ROOT,
        { PATH: `${ROOT}node_modules/.bin:${process.env.PATH}` },
      );
      let output = "";
      child.onOutput((text) => output += text);
      return { code: await child.exited, output };
    };
    try {
      const ok = await npm(good.path);
      assert.equal(ok.code, 0, ok.output);
      assert.ok(ok.output.includes(`${good.path}: valid`), ok.output);
      const no = await npm(bad.path);
      assert.equal(no.code, 2, no.output);
      assert.match(no.output, /heartbeat_interval: expected/);
    } finally {
      await good.remove();
      await bad.remove();
    }
  });
});
