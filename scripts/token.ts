/**
 * Mints a subscriber token for hypha's `[connector.<sse>.auth]`, for
 * development and for scripts; production tokens come from your app's
 * backend (any JWT library works the same way).
 *
 *   HYPHA_JWT_SECRET=... npm run -s token -- --sub 42 --rooms orders,team.* --exp 1h
 *   npx bun scripts/token.ts --key-file private.pem --sub 42 --aud hypha
 *
 * Prints the token on stdout. Exit code 2 on bad usage. The secret comes
 * from $HYPHA_JWT_SECRET or stdin (`--secret -`) so no command line shows
 * it: `deno task` and `npm run` (without -s) print the command they run,
 * arguments included, and `ps` shows arguments to every user.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import process from "node:process";
import { parseArgs } from "node:util";
import {
  type CryptoKey,
  importJWK,
  importPKCS8,
  type JWK,
  type JWTPayload,
  SignJWT,
} from "jose";
import { parseDuration } from "../src/config/units.ts";

const USAGE =
  `Usage: npm run -s token -- [options]   (or: npx bun scripts/token.ts [options])

Key (one of):
  --secret -         HMAC secret (jwt_secret) read from stdin;
                     default: $HYPHA_JWT_SECRET. (--secret TEXT works too,
                     but shows the secret to ps and to npm run without -s)
  --key-file PATH    private key: PEM (PKCS#8) or JWK JSON (RSA, EC, Ed25519)
Claims:
  --sub ID           subject: the user_id the token binds
  --rooms LIST       comma-separated rooms and patterns: orders,team.*
  --exp DURATION     lifetime, e.g. 15m, 1h (default 1h); "none" for no exp
  --aud AUDIENCE     audience claim
  --iss ISSUER       issuer claim
Header:
  --alg ALG          signing algorithm (default HS256 for a secret, else the key's)
  --kid ID           key id, to pick a key from a JWKS
`;

const PROBES = ["RS256", "ES256", "ES384", "ES512", "EdDSA"];

function fail(message: string): never {
  process.stderr.write(`token: ${message}\n`);
  process.exit(2);
}

async function signingKey(
  file: string,
  alg: string | undefined,
): Promise<{ key: CryptoKey | Uint8Array; alg: string }> {
  const text = await readFile(file, "utf8").catch((e: Error) =>
    fail(`cannot read ${file}: ${e.message}`)
  );
  if (text.trimStart().startsWith("{")) {
    const jwk = JSON.parse(text) as JWK;
    const chosen = alg ?? jwk.alg ??
      (jwk.kty === "RSA"
        ? "RS256"
        : jwk.kty === "OKP"
        ? "EdDSA"
        : { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" }[
          jwk.crv ?? ""
        ]);
    if (chosen === undefined) fail("cannot tell the JWK's algorithm; --alg");
    return { key: await importJWK(jwk, chosen), alg: chosen };
  }
  if (!text.includes("PRIVATE KEY")) {
    fail(`${file} is not a PEM private key or a JWK`);
  }
  for (const candidate of alg ? [alg] : PROBES) {
    try {
      return { key: await importPKCS8(text, candidate), alg: candidate };
    } catch { /* next family */ }
  }
  fail(`${file}: not a PKCS#8 private key for ${alg ?? PROBES.join("/")}`);
}

/** `--secret -`: the secret from stdin, without its trailing newline. */
async function readSecret(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  const secret = text.replace(/\r?\n$/, "");
  if (secret === "") fail("--secret -: stdin gave an empty secret");
  return secret;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        secret: { type: "string" },
        "key-file": { type: "string" },
        alg: { type: "string" },
        sub: { type: "string" },
        rooms: { type: "string" },
        exp: { type: "string", default: "1h" },
        aud: { type: "string" },
        iss: { type: "string" },
        kid: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const secret = values.secret === "-"
    ? await readSecret()
    : values.secret ?? process.env.HYPHA_JWT_SECRET;
  const file = values["key-file"];
  if ((secret === undefined) === (file === undefined)) {
    fail(
      `give exactly one of --secret (or $HYPHA_JWT_SECRET) and --key-file\n\n${USAGE}`,
    );
  }
  const { key, alg } = file !== undefined
    ? await signingKey(file, values.alg)
    : { key: new TextEncoder().encode(secret), alg: values.alg ?? "HS256" };

  const payload: JWTPayload = {};
  if (values.rooms !== undefined) {
    payload.rooms = values.rooms.split(",").map((r) => r.trim()).filter(
      (r) => r !== "",
    );
  }
  const jwt = new SignJWT(payload)
    .setProtectedHeader({
      alg,
      typ: "JWT",
      ...(values.kid ? { kid: values.kid } : {}),
    })
    .setIssuedAt();
  if (values.sub !== undefined) jwt.setSubject(values.sub);
  if (values.aud !== undefined) jwt.setAudience(values.aud);
  if (values.iss !== undefined) jwt.setIssuer(values.iss);
  if (values.exp !== "none") {
    const ms = parseDuration(values.exp);
    if (ms === undefined) {
      fail(
        `--exp: expected a duration like 15m or 1h, got ${
          JSON.stringify(values.exp)
        }`,
      );
    }
    jwt.setExpirationTime(Math.floor((Date.now() + ms) / 1000));
  }
  try {
    process.stdout.write(`${await jwt.sign(key)}\n`);
  } catch (error) {
    fail(`cannot sign with ${alg}: ${(error as Error).message}`);
  }
}

await main();
