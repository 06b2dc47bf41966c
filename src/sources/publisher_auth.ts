/**
 * Bearer tokens for publishers, compared in constant time: both sides are
 * hashed first, so neither the content nor the length of a configured token
 * leaks through response timing.
 *
 * @module
 */

import { bearerToken, json } from "../core/http/http.ts";

const encoder = new TextEncoder();

const digest = async (text: string) =>
  new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));

/** A check that answers whether a presented token is one of `tokens`. */
export function createTokenCheck(
  tokens: readonly string[],
): (presented: string) => Promise<boolean> {
  const expected = Promise.all(tokens.map(digest));
  return async (presented) => {
    const candidate = await digest(presented);
    let found = false;
    for (const hash of await expected) {
      let diff = 0;
      for (let i = 0; i < hash.length; i++) diff |= hash[i] ^ candidate[i];
      found = found || diff === 0;
    }
    return found;
  };
}

/**
 * The 401 for a request without a valid publisher token, or undefined when
 * its token is one of the configured ones.
 */
export async function checkPublisher(
  request: Request,
  realm: string,
  check: (presented: string) => Promise<boolean>,
): Promise<Response | undefined> {
  const token = bearerToken(request);
  if (token !== undefined && token !== "malformed" && await check(token)) {
    return undefined;
  }
  // RFC 6750: no error code when no credentials were presented.
  const error = token === undefined ? "" : ', error="invalid_token"';
  return json(401, { error: "a valid publisher token is required" }, {
    "www-authenticate": `Bearer realm="${realm}"${error}`,
  });
}
