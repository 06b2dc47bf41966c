/**
 * Bearer tokens for publishers, compared in constant time: both sides are
 * hashed first, so neither the content nor the length of a configured token
 * leaks through response timing.
 *
 * @module
 */

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
