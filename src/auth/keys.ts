/**
 * The key that verifies subscriber tokens, from one of three sources: an
 * HMAC secret, a PEM public key (or certificate), or a local JWKS. Each key
 * knows the algorithms it can verify; anything else is refused before a
 * signature is checked, so an RSA public key can never be used as an HMAC
 * secret (algorithm confusion) and `alg: none` never verifies.
 *
 * Runtime-neutral: the caller reads the files and passes their text.
 *
 * @module
 */

import {
  createLocalJWKSet,
  type CryptoKey,
  importSPKI,
  importX509,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
} from "jose";

/** Where the verification key comes from, with the text of its file. */
export type KeySource =
  | { readonly kind: "secret"; readonly secret: string }
  | { readonly kind: "pem"; readonly pem: string }
  | { readonly kind: "jwks"; readonly json: string };

/** A key ready for `jwtVerify`, and the algorithms it accepts. */
export interface VerificationKey {
  readonly algorithms: readonly string[];
  readonly key: Uint8Array | JWTVerifyGetKey;
}

const HMAC = ["HS256", "HS384", "HS512"];
const RSA = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
const EDDSA = ["EdDSA", "Ed25519"];
const EC: Record<string, string[]> = {
  "P-256": ["ES256"],
  "P-384": ["ES384"],
  "P-521": ["ES512"],
};

/** Every algorithm a key source can be configured with. */
export const KNOWN_ALGORITHMS: readonly string[] = [
  ...HMAC,
  ...RSA,
  ...Object.values(EC).flat(),
  ...EDDSA,
];

/** One probe per key family: importing with it succeeds only for that family. */
const PROBES: readonly (readonly [string, readonly string[]])[] = [
  ["RS256", RSA],
  ["ES256", EC["P-256"]],
  ["ES384", EC["P-384"]],
  ["ES512", EC["P-521"]],
  ["EdDSA", EDDSA],
];

/**
 * Builds the verification key. `wanted` narrows the key's algorithms; one
 * the key cannot verify is an error. Throws TypeError with a message fit
 * for a config error (it never contains key material).
 */
export async function createVerificationKey(
  source: KeySource,
  wanted?: readonly string[],
): Promise<VerificationKey> {
  let fits: readonly string[];
  let key: VerificationKey["key"];
  if (source.kind === "secret") {
    fits = HMAC;
    key = new TextEncoder().encode(source.secret);
  } else if (source.kind === "pem") {
    ({ fits, key } = await pemKey(source.pem));
  } else {
    ({ fits, key } = jwksKey(source.json));
  }
  const algorithms = wanted === undefined ? fits : wanted;
  const misfit = algorithms.filter((alg) => !fits.includes(alg));
  if (misfit.length > 0) {
    throw new TypeError(
      `${
        misfit.map((a) => JSON.stringify(a)).join(", ")
      } cannot be verified with this key; it fits ${fits.join(", ")}`,
    );
  }
  if (algorithms.length === 0) {
    throw new TypeError("expected at least one algorithm");
  }
  return { algorithms, key };
}

async function pemKey(
  pem: string,
): Promise<{ fits: readonly string[]; key: JWTVerifyGetKey }> {
  const certificate = pem.includes("-----BEGIN CERTIFICATE-----");
  if (!certificate && !pem.includes("-----BEGIN PUBLIC KEY-----")) {
    throw new TypeError(
      pem.includes("PRIVATE KEY")
        ? "expected a public key, found a private key: give hypha only the public half"
        : 'expected a PEM "PUBLIC KEY" or "CERTIFICATE"',
    );
  }
  const load = (alg: string) =>
    certificate ? importX509(pem, alg) : importSPKI(pem, alg);
  for (const [probe, fits] of PROBES) {
    try {
      await load(probe);
    } catch {
      continue;
    }
    // CryptoKeys are bound to one algorithm: import once per alg, lazily.
    const keys = new Map<string, Promise<CryptoKey>>();
    return {
      fits,
      key: (header) => {
        const alg = header.alg ?? "";
        let found = keys.get(alg);
        if (found === undefined) keys.set(alg, found = load(alg));
        return found;
      },
    };
  }
  throw new TypeError(
    "the PEM key is not an RSA, EC (P-256, P-384, P-521) or Ed25519 public key",
  );
}

function jwksKey(
  json: string,
): { fits: readonly string[]; key: JWTVerifyGetKey } {
  let set: JSONWebKeySet;
  try {
    set = JSON.parse(json);
  } catch {
    throw new TypeError("expected a JSON Web Key Set, the file is not JSON");
  }
  if (!Array.isArray(set?.keys) || set.keys.length === 0) {
    throw new TypeError('expected a JSON Web Key Set: {"keys": [...]}');
  }
  const fits = new Set<string>();
  set.keys.forEach((jwk: JWK, i: number) => {
    if (typeof jwk !== "object" || jwk === null) {
      throw new TypeError(`keys[${i}] is not a JSON object`);
    }
    if ("d" in jwk || jwk.kty === "oct") {
      throw new TypeError(
        `keys[${i}] is a private or symmetric key: a JWKS file holds public keys only (use jwt_secret for a shared secret)`,
      );
    }
    const family = jwk.kty === "RSA"
      ? RSA
      : jwk.kty === "EC"
      ? EC[jwk.crv ?? ""]
      : jwk.kty === "OKP" && jwk.crv === "Ed25519"
      ? EDDSA
      : undefined;
    if (family === undefined) {
      throw new TypeError(
        `keys[${i}] is not an RSA, EC (P-256, P-384, P-521) or Ed25519 public key`,
      );
    }
    if (jwk.alg !== undefined && !family.includes(jwk.alg)) {
      throw new TypeError(`keys[${i}]: alg ${jwk.alg} does not fit the key`);
    }
    for (const alg of jwk.alg ? [jwk.alg] : family) fits.add(alg);
  });
  return { fits: [...fits], key: createLocalJWKSet(set) };
}
