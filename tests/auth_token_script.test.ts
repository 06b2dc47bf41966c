import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { decodeJwt, exportPKCS8 } from "jose";
import { createVerificationKey } from "../src/auth/keys.ts";
import { createVerifier } from "../src/auth/verify.ts";
import { type KeyFiles, makeKeyFiles, SECRET } from "./support/auth.ts";
import { RUNTIME } from "./support/hypha.ts";
import { onceOnDeno } from "./support/once.ts";
import { spawnChild } from "./support/spawn.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** Runs scripts/token.ts with the runtime under test, as the README says. */
async function mint(args: string[], env: Record<string, string> = {}) {
  const runner = RUNTIME === "deno"
    ? ["run", "--allow-read", "--allow-env", "scripts/token.ts"]
    : ["run", "scripts/token.ts"];
  const child = spawnChild(process.execPath, [...runner, ...args], ROOT, env);
  let output = "";
  child.onOutput((text) => output += text);
  return { code: await child.exited, output: output.trim() };
}

describe(`token script (${RUNTIME})`, () => {
  let keys: KeyFiles;
  before(async () => {
    keys = await makeKeyFiles();
  });
  after(() => keys.remove());

  test("--secret mints a token hypha accepts, with sub, rooms, exp, aud and iss", async () => {
    const { code, output } = await mint([
      "--secret",
      SECRET,
      "--sub",
      "42",
      "--rooms",
      "orders, team.*",
      "--exp",
      "15m",
      "--aud",
      "hypha",
      "--iss",
      "https://auth.example.com",
    ]);
    assert.equal(code, 0, output);
    const verify = createVerifier(
      await createVerificationKey({ kind: "secret", secret: SECRET }),
      { audience: "hypha", issuer: "https://auth.example.com" },
    );
    const verdict = await verify(output);
    assert.ok(verdict.ok, JSON.stringify(verdict));
    assert.equal(verdict.claims.sub, "42");
    assert.deepEqual(verdict.claims.rooms, ["orders", "team.*"]);
    assert.equal(verdict.claims.exp! - (verdict.claims.iat as number), 900);
  });

  test("the secret may come from HYPHA_JWT_SECRET, keeping it out of shell history", async () => {
    const { code, output } = await mint(["--sub", "7", "--exp", "none"], {
      HYPHA_JWT_SECRET: SECRET,
    });
    assert.equal(code, 0, output);
    assert.equal(decodeJwt(output).exp, undefined);
    const verify = createVerifier(
      await createVerificationKey({ kind: "secret", secret: SECRET }),
    );
    assert.ok((await verify(output)).ok);
  });

  test("--key-file signs with a PEM private key; the public key verifies it", async () => {
    for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
      const pair = keys.pairs[alg];
      const file = join(keys.dir, `${alg}-private.pem`);
      await writeFile(file, await exportPKCS8(pair.privateKey));
      const { code, output } = await mint(["--key-file", file, "--sub", "9"]);
      assert.equal(code, 0, output);
      const verify = createVerifier(
        await createVerificationKey({ kind: "pem", pem: pair.pem }),
      );
      const verdict = await verify(output);
      assert.ok(verdict.ok, `${alg}: ${JSON.stringify(verdict)}`);
    }
  });

  test("bad usage exits 2 with the reason", async () => {
    const both = await mint(["--secret", SECRET, "--key-file", "x.pem"]);
    assert.equal(both.code, 2);
    assert.match(both.output, /give exactly one of --secret/);
    const exp = await mint(["--secret", SECRET, "--exp", "soon"]);
    assert.equal(exp.code, 2);
    assert.match(
      exp.output,
      /--exp: expected a duration like 15m or 1h, got "soon"/,
    );
  });
});

/** Runs `command` in a shell from the repository, as a user types it. */
async function shell(command: string, env: Record<string, string> = {}) {
  const child = spawnChild("sh", ["-c", command], ROOT, {
    PATH: `${ROOT}node_modules/.bin:${process.env.PATH}`,
    ...env,
  });
  let output = "";
  child.onOutput((text) => output += text);
  return { code: await child.exited, output: output.trim() };
}

// npm runs the token script on Deno whichever runner.
onceOnDeno.describe("npm run token keeps the secret out of its output", () => {
  const secret = "hypha-doc-secret-3e8d1a9b7c";
  const verifies = async (token: string) => {
    const verify = createVerifier(
      await createVerificationKey({ kind: "secret", secret }),
    );
    assert.ok((await verify(token)).ok, token);
  };

  test("npm run token with $HYPHA_JWT_SECRET: npm's own banner included", async () => {
    const { code, output } = await shell("npm run token -- --sub 42", {
      HYPHA_JWT_SECRET: secret,
    });
    assert.equal(code, 0, output);
    assert.ok(!output.includes(secret), output);
    await verifies(output.split("\n").at(-1)!);
  });

  test("npm run -s token -- --secret - reads the secret from stdin", async () => {
    const { code, output } = await shell(
      `printf %s '${secret}' | npm run -s token -- --secret - --sub 42`,
    );
    assert.equal(code, 0, output);
    assert.ok(!output.includes(secret), output);
    await verifies(output);
  });

  test("an empty secret on stdin is refused with exit 2", async () => {
    const { code, output } = await shell(
      "printf '' | npm run -s token -- --secret - --sub 42",
    );
    assert.equal(code, 2);
    assert.match(output, /--secret -: stdin gave an empty secret/);
  });

  test("deno.json has no token task: deno task prints its command line, secret included", () => {
    const tasks = JSON.parse(readFileSync(`${ROOT}deno.json`, "utf8")).tasks;
    assert.equal(tasks.token, undefined);
  });
});
