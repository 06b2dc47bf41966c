/**
 * Security checks of a schema-valid config: every subscriber `auth` table
 * names at most one key source (exactly one without a callback), a
 * callback URL fetch can use, only algorithms that exist (never `none`),
 * and no REST source is reachable from other machines without a
 * publisher token unless `insecure = true` says so. Messages name key paths,
 * never the secret values.
 *
 * @module
 */

import { callbackUrlProblem } from "../auth/callback.ts";
import { KNOWN_ALGORITHMS } from "../auth/keys.ts";
import type { Findings } from "./findings.ts";
import type { Config } from "./schema.ts";
import { isLoopback } from "./loopback.ts";

const KEY_SOURCES = ["jwt_secret", "public_key_file", "jwks_file"] as const;

/** Adds the problems and warnings about authentication. */
export function checkAuth(config: Config, findings: Findings): void {
  const admin = config.service.admin;
  if (admin !== undefined) {
    checkBearerTokens("service.admin", ADMIN_WORDS, admin, findings);
  }
  for (const [name, c] of Object.entries(config.connector)) {
    const at = `connector.${name}`;
    if (c.type === "sse" && c.auth !== undefined) {
      const given = KEY_SOURCES.filter((k) => c.auth?.[k] !== undefined);
      if (given.length > 1) {
        findings.problem(
          `${at}.auth`,
          `expected exactly one key source (jwt_secret, public_key_file or jwks_file), got ${
            given.join(" and ")
          }`,
        );
      } else if (
        given.length === 0 && c.auth.callback === undefined &&
        // Mercure: anonymous subscribers beside publishers' own keys.
        !(c.protocol === "mercure" && c.publisher_auth !== undefined)
      ) {
        findings.problem(
          `${at}.auth`,
          "expected a key source (jwt_secret, public_key_file or jwks_file) or a callback, got none",
        );
      }
      checkCallback(at, c.auth, given.length > 0, findings);
      for (const alg of c.auth.algorithms ?? []) {
        if (alg.toLowerCase() === "none") {
          findings.problem(
            `${at}.auth.algorithms`,
            '"none" is never accepted: unsigned tokens would let anyone in',
          );
        } else if (!KNOWN_ALGORITHMS.includes(alg)) {
          findings.problem(
            `${at}.auth.algorithms`,
            `expected some of ${KNOWN_ALGORITHMS.join(", ")}, got ${
              JSON.stringify(alg)
            }`,
          );
        }
      }
      const secret = c.auth.jwt_secret;
      if (
        secret !== undefined && new TextEncoder().encode(secret).length < 32
      ) {
        findings.warn(
          `${at}.auth.jwt_secret is shorter than 32 bytes: use at least 32 random bytes for HMAC`,
        );
      }
    }
    if (c.type === "rest") {
      checkBearerTokens(at, PUBLISH_WORDS, c, findings);
    }
  }
}

type SseAuth = NonNullable<
  Extract<Config["connector"][string], { type: "sse" }>["auth"]
>;

/** The callback URL, and token settings that need a key to mean anything. */
function checkCallback(
  at: string,
  auth: SseAuth,
  hasKey: boolean,
  findings: Findings,
): void {
  if (auth.callback !== undefined) {
    const problem = callbackUrlProblem(auth.callback);
    if (problem) findings.problem(`${at}.auth.callback`, problem);
  }
  if (hasKey) return;
  for (const key of ["algorithms", "issuer", "audience"] as const) {
    if (auth[key] !== undefined) {
      findings.problem(
        `${at}.auth.${key}`,
        "verifies tokens, but no key source is set (jwt_secret, public_key_file or jwks_file): set one or remove it",
      );
    }
  }
}

/** What a token-protected listener (REST source, admin) is configured with. */
interface TokenListener {
  readonly host: string;
  readonly port: number;
  readonly auth?: { readonly tokens: readonly string[] };
  readonly insecure: boolean;
}

/** The words a bearer-token finding uses for one kind of listener. */
interface TokenWords {
  readonly what: string;
  readonly token: string;
  readonly open: string;
  /** What anyone could do, in the refusal. */
  readonly risk: string;
  /** What anyone may do, in the warning. */
  readonly warning: string;
  /** Warn about no token on loopback too (the admin default is loopback). */
  readonly warnOnLoopback: boolean;
  readonly variable: string;
}

const PUBLISH_WORDS: TokenWords = {
  what: "the REST source",
  token: "a publisher token",
  open: "publishers are unauthenticated",
  risk: "push to every subscriber",
  warning: "publish to every subscriber",
  warnOnLoopback: true,
  variable: "HYPHA_PUBLISH_TOKEN",
};

const ADMIN_WORDS: TokenWords = {
  what: "the admin listener",
  token: "an admin token",
  open: "the admin listener is unauthenticated",
  risk: "read every metric and counter",
  warning: "read every metric and counter",
  warnOnLoopback: false,
  variable: "HYPHA_ADMIN_TOKEN",
};

/**
 * One rule for every bearer-token listener: reachable from other machines
 * needs a non-empty token unless `insecure = true` says so.
 */
function checkBearerTokens(
  at: string,
  words: TokenWords,
  c: TokenListener,
  findings: Findings,
): void {
  const configured = c.auth?.tokens ?? [];
  // An empty token (an unset "${HYPHA_PUBLISH_TOKEN:-}") never
  // authenticates anyone; it counts as no token at all.
  const tokens = configured.filter((t) => t !== "");
  const hint = configured.length > tokens.length
    ? " (a token in auth.tokens is empty: is its environment variable set?)"
    : "";
  if (tokens.length === 0 && !isLoopback(c.host) && !c.insecure) {
    findings.problem(
      `${at}.auth`,
      `${words.what} listens on ${
        JSON.stringify(c.host)
      }, reachable from other machines, without ${words.token}${hint}: anyone could ${words.risk}; set [${at}.auth] tokens = ["\${${words.variable}}"], bind host = "127.0.0.1", or set insecure = true`,
    );
  } else if (
    tokens.length === 0 && (words.warnOnLoopback || !isLoopback(c.host))
  ) {
    findings.warn(
      `${at}: ${words.open}${hint}: anyone who can reach ${c.host}:${c.port} may ${words.warning}`,
    );
  }
  if (tokens.some((t) => t.length < 16)) {
    findings.warn(
      `${at}.auth.tokens: a token is shorter than 16 characters; use long random tokens`,
    );
  }
}
