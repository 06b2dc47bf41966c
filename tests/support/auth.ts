/**
 * Keys and tokens for the auth tests: real keys generated with jose into a
 * temp dir, real signed tokens, and an unsigned (`alg: none`) one built by
 * hand, since jose refuses to make it.
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWTPayload,
  SignJWT,
} from "jose";

/** The HMAC secret of the test configs (long enough: no startup warning). */
export const SECRET = "hypha-test-secret-7f3a9c1e5b2d4f6a8c0e";

/** Signs `claims`; `exp` in seconds from now, negative for expired. */
export async function sign(
  claims: JWTPayload,
  options: {
    key?: CryptoKey | Uint8Array;
    alg?: string;
    exp?: number;
    kid?: string;
  } = {},
): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({
    alg: options.alg ?? "HS256",
    ...(options.kid ? { kid: options.kid } : {}),
  }).setIssuedAt();
  if (options.exp !== undefined) {
    jwt.setExpirationTime(Math.floor(Date.now() / 1000) + options.exp);
  }
  return await jwt.sign(options.key ?? new TextEncoder().encode(SECRET));
}

const b64 = (value: unknown) =>
  btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-")
    .replace(/\//g, "_");

/** An unsigned token: `{"alg":"none"}`, claims, empty signature. */
export function unsigned(claims: JWTPayload): string {
  return `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
}

/** A key pair with its public key written as PEM. */
export interface KeyPairFiles {
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly pemFile: string;
  readonly pem: string;
}

/** RS256, ES256 and EdDSA key pairs, their PEM files, and a JWKS file. */
export interface KeyFiles {
  readonly dir: string;
  readonly pairs: Record<"RS256" | "ES256" | "EdDSA", KeyPairFiles>;
  /** JWKS with the ES256 key (kid "es") and the EdDSA key (no kid). */
  readonly jwksFile: string;
  readonly jwks: string;
  remove(): Promise<void>;
}

/** Generates fresh keys into a temp dir. */
export async function makeKeyFiles(): Promise<KeyFiles> {
  const dir = await mkdtemp(join(tmpdir(), "hypha-keys-"));
  const pairs = {} as Record<string, KeyPairFiles>;
  for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
    const { privateKey, publicKey } = await generateKeyPair(alg, {
      extractable: true,
    });
    const pem = await exportSPKI(publicKey);
    const pemFile = join(dir, `${alg}.pem`);
    await writeFile(pemFile, pem);
    pairs[alg] = { alg, privateKey, publicKey, pemFile, pem };
  }
  const jwks = JSON.stringify({
    keys: [
      { ...(await exportJWK(pairs.ES256.publicKey)), kid: "es" },
      await exportJWK(pairs.EdDSA.publicKey),
    ],
  });
  const jwksFile = join(dir, "jwks.json");
  await writeFile(jwksFile, jwks);
  return {
    dir,
    pairs: pairs as KeyFiles["pairs"],
    jwksFile,
    jwks,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
