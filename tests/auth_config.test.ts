import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readFile } from "node:fs/promises";
import { createSubscriberAuth } from "../src/auth/setup.ts";
import { parseConfig } from "../src/config/load.ts";
import { errorOf, SSE } from "./support/config_errors.ts";
import { SECRET } from "./support/auth.ts";

const REST = `[connector.api]\ntype = "rest"\nport = 8080\n`;

describe("security config", () => {
  test("an auth table needs exactly one key source", () => {
    assert.equal(
      errorOf(`${SSE}[connector.sse.auth]\nanonymous = true\n`),
      "hypha.toml: connector.sse.auth: expected a key source (jwt_secret, public_key_file or jwks_file) or a callback, got none",
    );
    assert.equal(
      errorOf(
        `${SSE}[connector.sse.auth]\njwt_secret = "${SECRET}"\njwks_file = "k.json"\n`,
      ),
      "hypha.toml: connector.sse.auth: expected exactly one key source (jwt_secret, public_key_file or jwks_file), got jwt_secret and jwks_file",
    );
  });

  test("algorithm none and unknown algorithms are refused", () => {
    assert.equal(
      errorOf(
        `${SSE}[connector.sse.auth]\njwt_secret = "${SECRET}"\nalgorithms = ["none"]\n`,
      ),
      'hypha.toml: connector.sse.auth.algorithms: "none" is never accepted: unsigned tokens would let anyone in',
    );
    assert.match(
      errorOf(
        `${SSE}[connector.sse.auth]\njwt_secret = "${SECRET}"\nalgorithms = ["HS257"]\n`,
      ),
      /connector\.sse\.auth\.algorithms: expected some of HS256, .*, got "HS257"$/,
    );
  });

  test("a short secret starts with a warning that does not show it", () => {
    const { warnings } = parseConfig(
      `${SSE}[connector.sse.auth]\njwt_secret = "\${S}"\n`,
      "hypha.toml",
      { S: "short-secret" },
    );
    assert.deepEqual(warnings.filter((w) => w.includes("jwt_secret")), [
      "connector.sse.auth.jwt_secret is shorter than 32 bytes: use at least 32 random bytes for HMAC",
    ]);
  });

  test("config errors never repeat secret values", () => {
    const message = errorOf(
      `${SSE}[connector.sse.auth]\njwt_secret = 123456789\n` +
        `[connector.rabbit]\ntype = "mq"\ndriver = "rabbitmq"\npassword = 987654321\n` +
        `${REST}[connector.api.auth]\ntokens = "tok-55555"\n`,
    );
    assert.match(message, /connector\.sse\.auth\.jwt_secret: expected string/);
    assert.match(message, /connector\.rabbit\.password: expected string/);
    assert.match(message, /connector\.api\.auth\.tokens: expected array/);
    for (const secret of ["123456789", "987654321", "tok-55555"]) {
      assert.ok(!message.includes(secret), message);
    }
  });

  test("CORS: * together with allow_credentials is refused", () => {
    assert.equal(
      errorOf(
        `${SSE}[connector.sse.cors]\nallowed_origins = ["*"]\nallow_credentials = true\n`,
      ),
      'hypha.toml: connector.sse.cors: allow_credentials = true cannot be combined with the origin "*"; list the origins',
    );
  });

  test("a REST source off loopback without a token is refused unless insecure", () => {
    const open = `${SSE}${REST}host = "0.0.0.0"\n`;
    assert.match(
      errorOf(open),
      /^hypha\.toml: connector\.api\.auth: the REST source listens on "0\.0\.0\.0", reachable from other machines, without a publisher token: .*set insecure = true$/,
    );
    const empty =
      `${open}[connector.api.auth]\ntokens = ["\${HYPHA_PUBLISH_TOKEN:-}"]\n`;
    assert.match(
      errorOf(empty),
      /without a publisher token \(a token in auth\.tokens is empty: is its environment variable set\?\)/,
    );
    const withToken = parseConfig(empty, "hypha.toml", {
      HYPHA_PUBLISH_TOKEN: "a-long-random-publisher-token",
    });
    assert.deepEqual(withToken.config.connector.api, {
      type: "rest",
      port: 8080,
      host: "0.0.0.0",
      max_body: 1048576,
      max_batch: 1000,
      request_timeout: 10_000,
      max_pending_connections: 1024,
      auth: { tokens: ["a-long-random-publisher-token"] },
      insecure: false,
    });
    const insecure = parseConfig(`${open}insecure = true\n`, "hypha.toml", {});
    assert.ok(
      insecure.warnings.some((w) =>
        w.startsWith("connector.api: publishers are unauthenticated")
      ),
    );
  });

  test("a REST source defaults to loopback and warns when unauthenticated", () => {
    const { config, warnings } = parseConfig(`${SSE}${REST}`, "hypha.toml", {});
    assert.equal(
      config.connector.api.type === "rest" && config.connector.api.host,
      "127.0.0.1",
    );
    assert.ok(
      warnings.includes(
        "connector.api: publishers are unauthenticated: anyone who can reach 127.0.0.1:8080 may publish to every subscriber",
      ),
    );
  });

  test("the default config starts with no environment, and reads the publish token from it", async () => {
    const text = await readFile(
      new URL("../config/hypha.toml", import.meta.url).pathname,
      "utf8",
    );
    const bare = parseConfig(text, "config/hypha.toml", {});
    const api = bare.config.connector.api;
    assert.ok(api.type === "rest");
    assert.deepEqual(api.auth, { tokens: [""] });
    assert.ok(
      bare.warnings.some((w) => w.includes("publishers are unauthenticated")),
    );
    const set = parseConfig(text, "config/hypha.toml", {
      HYPHA_PUBLISH_TOKEN: "from-the-environment-0123",
    });
    const api2 = set.config.connector.api;
    assert.ok(api2.type === "rest");
    assert.deepEqual(api2.auth, { tokens: ["from-the-environment-0123"] });
  });

  test("createSubscriberAuth names the key path of a file it cannot use", async () => {
    const { config } = parseConfig(
      `${SSE}[connector.sse.auth]\npublic_key_file = "/nonexistent/key.pem"\n`,
      "hypha.toml",
      {},
    );
    await assert.rejects(
      createSubscriberAuth(
        config,
        "hypha.toml",
        () => Promise.reject(new Error("No such file")),
      ),
      {
        name: "ConfigError",
        message:
          'hypha.toml: connector.sse.auth.public_key_file: cannot read "/nonexistent/key.pem": No such file',
      },
    );
    await assert.rejects(
      createSubscriberAuth(
        config,
        "hypha.toml",
        () => Promise.resolve("not a key"),
      ),
      /^ConfigError: hypha\.toml: connector\.sse\.auth\.public_key_file: expected a PEM "PUBLIC KEY" or "CERTIFICATE"$/,
    );
    const narrowed = parseConfig(
      `${SSE}[connector.sse.auth]\njwt_secret = "${SECRET}"\nalgorithms = ["ES256"]\n`,
      "hypha.toml",
      {},
    );
    await assert.rejects(
      createSubscriberAuth(
        narrowed.config,
        "hypha.toml",
        () => Promise.reject(new Error("unused")),
      ),
      {
        message:
          'hypha.toml: connector.sse.auth.algorithms: "ES256" cannot be verified with this key; it fits HS256, HS384, HS512',
      },
    );
  });
});
