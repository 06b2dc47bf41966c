import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readFile } from "node:fs/promises";
import process from "node:process";
import { until } from "./support/clients.ts";
import {
  entrypointArgs,
  publish,
  runHypha,
  RUNTIME,
  startHypha,
  writeConfig,
} from "./support/hypha.ts";
import { spawnChild } from "./support/spawn.ts";
import { SECRET } from "./support/auth.ts";
import {
  type ConfigInput,
  merge,
  rest,
  restExample,
  sse,
} from "./support/config_builder.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** Runs hypha with `config` to its end; it must refuse to start. */
async function refused(
  config: string | ConfigInput,
  env: Record<string, string> = {},
) {
  const file = await writeConfig(config);
  try {
    return await runHypha(["--config", file.path], env);
  } finally {
    await file.remove();
  }
}

describe(`security at startup (${RUNTIME})`, () => {
  test("a REST source on a non-loopback host without a token exits 2", async () => {
    const { code, output } = await refused(
      { connector: { sse: sse(), api: rest({ host: "0.0.0.0" }) } },
    );
    assert.equal(code, 2);
    assert.match(
      output,
      /hypha\.toml: connector\.api\.auth: the REST source listens on "0\.0\.0\.0", reachable from other machines, without a publisher token/,
    );
    assert.doesNotMatch(output, /\n\s+at /, "no stack trace");
  });

  test("CORS * with allow_credentials exits 2", async () => {
    const { code, output } = await refused(
      restExample({
        cors: { allowed_origins: ["*"], allow_credentials: true },
      }),
    );
    assert.equal(code, 2);
    assert.match(
      output,
      /connector\.sse\.cors: allow_credentials = true cannot be combined with the origin "\*"/,
    );
  });

  test("an unreadable key file exits 2 naming the key path", async () => {
    const { code, output } = await refused(
      restExample({ auth: { public_key_file: "/nonexistent/hypha-key.pem" } }),
    );
    assert.equal(code, 2);
    assert.match(
      output,
      /hypha: invalid config: .*hypha\.toml: connector\.sse\.auth\.public_key_file: cannot read "\/nonexistent\/hypha-key\.pem"/,
    );
  });

  test("the default config starts with no environment; publishing stays local and open", async () => {
    const text = await readFile(`${ROOT}config/hypha.toml`, "utf8");
    const hypha = await startHypha(text, {
      HYPHA_SSE_PORT: "0",
      HYPHA_REST_PORT: "0",
      HYPHA_PUBLISH_TOKEN: "", // empty counts as unset
    });
    try {
      assert.match(hypha.urls.api, /^http:\/\/127\.0\.0\.1:/);
      assert.ok(
        hypha.lines.some((l) =>
          /WARN\s+connector\.api: publishers are unauthenticated/.test(l)
        ),
      );
      assert.ok(
        hypha.lines.some((l) =>
          /WARN\s+subscribers are unauthenticated/.test(l)
        ),
      );
      const api = hypha.urls.api.replace(/\/$/, "");
      assert.equal((await publish(`${api}/notify`, { n: 1 })).status, 202);
    } finally {
      assert.equal(await hypha.stop(), 0);
    }
  });

  test("the default config requires HYPHA_PUBLISH_TOKEN from publishers once it is set", async () => {
    const text = await readFile(`${ROOT}config/hypha.toml`, "utf8");
    const token = "default-config-publish-token-91c2";
    const hypha = await startHypha(text, {
      HYPHA_SSE_PORT: "0",
      HYPHA_REST_PORT: "0",
      HYPHA_PUBLISH_TOKEN: token,
    });
    try {
      const api = hypha.urls.api.replace(/\/$/, "");
      assert.equal((await publish(`${api}/notify`, { n: 1 })).status, 401);
      assert.equal(
        (await publish(`${api}/notify`, { n: 1 }, {
          authorization: `Bearer ${token}x`,
        })).status,
        401,
      );
      assert.equal(
        (await publish(`${api}/notify`, { n: 1 }, {
          authorization: `Bearer ${token}`,
        })).status,
        202,
      );
      assert.ok(
        !hypha.lines.some((l) => l.includes("publishers are unauthenticated")),
      );
      assert.ok(!hypha.lines.join("\n").includes(token));
    } finally {
      assert.equal(await hypha.stop(), 0);
    }
  });

  test("--help prints no secret from the environment", async () => {
    const secrets = {
      HYPHA_PUBLISH_TOKEN: "help-publish-token-5d1e",
      HYPHA_JWT_SECRET: SECRET,
      RABBITMQ_URL: "amqp://app:help-amqp-pw-77@127.0.0.1:5672",
    };
    const { code, output } = await runHypha(["--help"], secrets);
    assert.equal(code, 0);
    for (const value of Object.values(secrets)) {
      assert.ok(!output.includes(value));
    }
    assert.ok(!output.includes("help-amqp-pw-77"));
  });

  test("the password of an AMQP URL is in no output of a run", async () => {
    const password = "amqp-secret-pw-4f8a";
    const file = await writeConfig(
      merge(restExample(), {
        connector: {
          rabbit: { type: "mq", driver: "rabbitmq", url: "${RABBITMQ_URL}" },
        },
      }),
    );
    const child = spawnChild(
      process.execPath,
      [...entrypointArgs(), "--config", file.path],
      ROOT,
      // Port 1: nothing listens, so a real driver logs connection failures.
      { RABBITMQ_URL: `amqp://app:${password}@127.0.0.1:1/` },
    );
    let output = "";
    child.onOutput((text) => output += text);
    // The driver fails to connect and logs its retry: the line that would
    // carry the URL if anything did.
    await until(() => /WARN\s+retrying/.test(output), "the retrying line");
    child.kill("SIGTERM");
    await child.exited;
    await file.remove();
    assert.match(output, /starting/);
    assert.match(
      output,
      /WARN\s+retrying .*url=amqp:\/\/app:\*\*\*@127\.0\.0\.1:1/,
    );
    assert.ok(!output.includes(password), output);
  });
});
