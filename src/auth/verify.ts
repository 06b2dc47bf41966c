/**
 * Verifies a subscriber token with `jose`: signature with the configured key
 * and only its algorithms, then `exp`, `nbf`, and `iss`/`aud` when configured.
 * A refusal carries a short reason for `WWW-Authenticate`; it never contains
 * the token or any claim value, since it reaches clients and could reach logs.
 *
 * @module
 */

import {
  type CryptoKey,
  errors,
  jwtVerify,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from "jose";
import type { VerificationKey } from "./keys.ts";

/** What the token must say besides being signed. */
export interface VerifierOptions {
  readonly issuer?: string;
  readonly audience?: string;
  /** Seconds since the epoch; tests pass a clock, production uses Date.now. */
  readonly now?: () => number;
}

/** The claims hypha reads; other claims are kept but unused. */
export interface Claims {
  readonly sub?: string;
  readonly exp?: number;
  readonly rooms?: unknown;
  readonly [claim: string]: unknown;
}

/** The result of verifying one token. */
export type Verdict =
  | { readonly ok: true; readonly claims: Claims }
  | { readonly ok: false; readonly reason: string };

/** Verifies a compact JWT. */
export type Verifier = (token: string) => Promise<Verdict>;

/** Creates a verifier bound to one key and its settings. */
export function createVerifier(
  key: VerificationKey,
  options: VerifierOptions = {},
): Verifier {
  const verifyOptions = (): JWTVerifyOptions => ({
    algorithms: [...key.algorithms],
    issuer: options.issuer,
    audience: options.audience,
    currentDate: options.now ? new Date(options.now()) : undefined,
  });
  return async (token) => {
    try {
      const { payload } = await verifyWithAnyKey(
        token,
        key.key,
        verifyOptions(),
      );
      return { ok: true, claims: payload };
    } catch (error) {
      return { ok: false, reason: reasonOf(error) };
    }
  };
}

/**
 * jose's local JWKS refuses to choose between several keys that fit a token
 * without `kid` (jose 6.2); it hands them over instead, and we try each.
 */
async function verifyWithAnyKey(
  token: string,
  key: Uint8Array | JWTVerifyGetKey,
  options: JWTVerifyOptions,
) {
  try {
    return typeof key === "function"
      ? await jwtVerify(token, key, options)
      : await jwtVerify(token, key, options);
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    let last: unknown = error;
    for await (const candidate of error as AsyncIterable<CryptoKey>) {
      try {
        return await jwtVerify(token, candidate, options);
      } catch (next) {
        last = next;
        if (!(next instanceof errors.JWSSignatureVerificationFailed)) break;
      }
    }
    throw last;
  }
}

const CLAIM_REASONS: Record<string, string> = {
  aud: "token audience is not accepted",
  iss: "token issuer is not accepted",
  nbf: "token is not valid yet",
  iat: "token issue time is not valid",
};

/** A fixed reason per failure kind: never the error's own message. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "token expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    return CLAIM_REASONS[error.claim] ?? "token claims are not valid";
  }
  // jose 6.2 reports an unknown `crit` entry as JOSENotSupported, like an
  // unsupported algorithm; tell them apart by its (fixed) message.
  if (
    error instanceof errors.JOSENotSupported &&
    error.message.startsWith("Extension Header Parameter")
  ) {
    return "token has a critical header parameter (crit) that is not supported";
  }
  if (
    error instanceof errors.JOSEAlgNotAllowed ||
    error instanceof errors.JOSENotSupported
  ) {
    return "token algorithm is not accepted";
  }
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return "token signature is not valid";
  }
  return "token is malformed";
}
