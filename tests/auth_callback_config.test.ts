/**
 * The auth callback's settings in TOML and in Mycel-style HCL, and the
 * config errors that name where a bad one is.
 */

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ConfigError, loadConfig, parseConfig } from "../src/config/load.ts";
import { errorOf, SSE } from "./support/config_errors.ts";
import { SECRET } from "./support/auth.ts";

const CALLBACK =
  `${SSE}[connector.sse.auth]\ncallback = "http://app.internal/sse-auth"\n`;

function authOf(text: string) {
  const c = parseConfig(text, "hypha.toml", {}).config.connector.sse;
  assert.ok(c.type === "sse");
  return c.auth;
}

/** Loads an HCL file from a temp dir; returns the config or the error. */
async function loadHcl(text: string) {
  const dir = await mkdtemp(join(tmpdir(), "hypha-cb-"));
  const file = join(dir, "app.hcl");
  try {
    await writeFile(file, text);
    return {
      file,
      result: await loadConfig(file, (p) => readFile(p, "utf8"), {}).catch((
        e,
      ) => e),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("auth callback config", () => {
  test("a callback alone is a valid auth table, with the documented defaults", () => {
    const auth = authOf(CALLBACK);
    assert.equal(auth?.callback, "http://app.internal/sse-auth");
    assert.deepEqual(auth?.forward_headers, ["cookie", "authorization"]);
    assert.equal(auth?.timeout, 2000);
    assert.equal(auth?.cache_ttl, 30_000);
    assert.equal(auth?.cache_size, 10_000);
    assert.equal(auth?.max_inflight, 64);
  });

  test("a callback beside a JWT key, with its settings given", () => {
    const auth = authOf(
      `${CALLBACK}jwt_secret = "${SECRET}"\nforward_headers = ["Cookie", "X-Session"]\n` +
        `timeout = "500ms"\ncache_ttl = "1m"\ncache_size = 500\nmax_inflight = 8\n`,
    );
    assert.deepEqual(auth?.forward_headers, ["cookie", "x-session"]);
    assert.equal(auth?.timeout, 500);
    assert.equal(auth?.cache_ttl, 60_000);
    assert.equal(auth?.cache_size, 500);
    assert.equal(auth?.max_inflight, 8);
  });

  test("a callback that is not an http(s) URL is a config error naming the key", () => {
    const at = "hypha.toml: connector.sse.auth.callback: ";
    const withUrl = (url: string) =>
      errorOf(`${SSE}[connector.sse.auth]\ncallback = "${url}"\n`);
    assert.equal(
      withUrl("app.internal/sse-auth"),
      `${at}expected an http:// or https:// URL like "http://app.internal/auth", got no URL`,
    );
    assert.equal(
      withUrl("ftp://app.internal/sse-auth"),
      `${at}expected an http:// or https:// URL like "http://app.internal/auth", got scheme "ftp:"`,
    );
    const secret = withUrl("http://hypha:s3cr3t-pass@app.internal/sse-auth");
    assert.equal(
      secret,
      `${at}must not carry a user or password (fetch refuses them)`,
    );
  });

  test("other bad callback settings name their key", () => {
    assert.match(
      errorOf(`${CALLBACK}forward_headers = ["cookie", "bad header"]\n`),
      /connector\.sse\.auth\.forward_headers\.1: expected a header name like "cookie", got "bad header"/,
    );
    assert.match(
      errorOf(`${CALLBACK}max_inflight = 0\n`),
      /connector\.sse\.auth\.max_inflight: expected number to be >=1, got 0/,
    );
    assert.match(
      errorOf(`${CALLBACK}timeout = "soon"\n`),
      /connector\.sse\.auth\.timeout: expected a duration like "30s"/,
    );
    assert.equal(
      errorOf(`${CALLBACK}issuer = "https://auth.example.com"\n`),
      "hypha.toml: connector.sse.auth.issuer: verifies tokens, but no key source is set (jwt_secret, public_key_file or jwks_file): set one or remove it",
    );
  });

  test("Mycel-style HCL: an auth block with a callback loads as in TOML", async () => {
    const { result } = await loadHcl(
      `connector "events" {\n  type = "sse"\n  auth {\n    callback = "http://app.internal/sse-auth"\n    cache_ttl = "10s"\n    forward_headers = ["Cookie"]\n    public_rooms = ["news"]\n  }\n}\n`,
    );
    assert.ok(!(result instanceof Error), String(result));
    const c = result.config.connector.events;
    assert.ok(c.type === "sse");
    assert.equal(c.auth?.callback, "http://app.internal/sse-auth");
    assert.equal(c.auth?.cache_ttl, 10_000);
    assert.equal(c.auth?.max_inflight, 64);
    assert.deepEqual(c.auth?.forward_headers, ["cookie"]);
    assert.deepEqual(c.auth?.public_rooms, ["news"]);
  });

  test("Mycel-style HCL: a bad callback URL names file and line", async () => {
    const { file, result } = await loadHcl(
      `connector "events" {\n  type = "sse"\n  auth {\n    callback = "ftp://app.internal/x"\n  }\n}\n`,
    );
    assert.ok(result instanceof ConfigError, String(result));
    assert.match(
      result.message,
      new RegExp(
        `^${file}:4: connector\\.events\\.auth\\.callback: expected an http:// or https:// URL`,
      ),
    );
  });
});
