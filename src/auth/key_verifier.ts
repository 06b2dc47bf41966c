/**
 * The verifier of one table of JWT key options (a secret, a PEM file or a
 * JWKS file, read with the runtime's reader at start), shared by
 * subscriber auth and Mercure's publisher and subscriber keys.
 *
 * @module
 */

import { ConfigError } from "../config/error.ts";
import type { SseConnector } from "../config/schema.ts";
import { errorMessage } from "../core/errors.ts";
import { createVerificationKey, type KeySource } from "./keys.ts";
import { createVerifier, type Verifier } from "./verify.ts";

/** Reads a text file; the entrypoint supplies the runtime's. */
export type ReadTextFile = (path: string) => Promise<string>;

type JwtKeys = NonNullable<SseConnector["publisher_auth"]>;

/** The verifier of one table of JWT key options (`at` names it). */
export async function createKeyVerifier(
  auth: JwtKeys,
  at: string,
  readTextFile: ReadTextFile,
): Promise<Verifier> {
  const source = await keySource(auth, at, readTextFile);
  let key;
  try {
    key = await createVerificationKey(source.key, auth.algorithms);
  } catch (error) {
    const where = auth.algorithms ? "algorithms" : source.field;
    throw new ConfigError(`${at}.${where}: ${(error as Error).message}`);
  }
  return createVerifier(key, { issuer: auth.issuer, audience: auth.audience });
}

async function keySource(
  auth: JwtKeys,
  at: string,
  readTextFile: ReadTextFile,
): Promise<{ key: KeySource; field: string }> {
  if (auth.jwt_secret !== undefined) {
    return {
      key: { kind: "secret", secret: auth.jwt_secret },
      field: "jwt_secret",
    };
  }
  const field = auth.public_key_file !== undefined
    ? "public_key_file"
    : "jwks_file";
  const path = auth.public_key_file ?? auth.jwks_file;
  // checkConfig guarantees exactly one key source.
  if (path === undefined) throw new ConfigError(`${at}: no key source`);
  let text: string;
  try {
    text = await readTextFile(path);
  } catch (error) {
    const reason = errorMessage(error);
    throw new ConfigError(
      `${at}.${field}: cannot read ${JSON.stringify(path)}: ${reason}`,
    );
  }
  return {
    key: field === "public_key_file"
      ? { kind: "pem", pem: text }
      : { kind: "jwks", json: text },
    field,
  };
}
