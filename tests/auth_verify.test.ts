import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { generateKeyPair } from "jose";
import { createAuthorizer, readCookie } from "../src/auth/authorizer.ts";
import { createVerificationKey, type KeySource } from "../src/auth/keys.ts";
import { compileRooms } from "../src/auth/rooms.ts";
import { createVerifier, type Verifier } from "../src/auth/verify.ts";
import type { Grant } from "../src/core/http/handler.ts";
import {
  parseSubscriberQuery,
  type SubscriberQuery,
} from "../src/core/http/query.ts";
import {
  type KeyFiles,
  makeKeyFiles,
  SECRET,
  sign,
  unsigned,
} from "./support/auth.ts";

const secretKey: KeySource = { kind: "secret", secret: SECRET };

async function verifierFor(
  source: KeySource,
  options: { algorithms?: string[]; issuer?: string; audience?: string } = {},
): Promise<Verifier> {
  return createVerifier(
    await createVerificationKey(source, options.algorithms),
    options,
  );
}

const reason = async (verify: Verifier, token: string) => {
  const verdict = await verify(token);
  return verdict.ok ? "accepted" : verdict.reason;
};

describe("token verification", () => {
  let keys: KeyFiles;
  before(async () => {
    keys = await makeKeyFiles();
  });
  after(() => keys.remove());

  test("createVerifier accepts a token signed with the secret and returns its claims", async () => {
    const verify = await verifierFor(secretKey);
    const verdict = await verify(await sign({ sub: "42", rooms: ["a"] }));
    assert.ok(verdict.ok);
    assert.equal(verdict.claims.sub, "42");
    assert.deepEqual(verdict.claims.rooms, ["a"]);
    for (const alg of ["HS384", "HS512"]) {
      assert.equal(
        await reason(verify, await sign({ sub: "1" }, { alg })),
        "accepted",
        alg,
      );
    }
  });

  test("createVerifier refuses another key, alg none, expiry, wrong aud and iss", async () => {
    const verify = await verifierFor(secretKey, {
      issuer: "https://auth.example.com",
      audience: "hypha",
    });
    const good = { sub: "42", iss: "https://auth.example.com", aud: "hypha" };
    assert.equal(
      await reason(verify, await sign(good, { exp: 60 })),
      "accepted",
    );
    assert.equal(
      await reason(
        verify,
        await sign(good, { key: new TextEncoder().encode(SECRET + "x") }),
      ),
      "token signature is not valid",
    );
    assert.equal(
      await reason(verify, unsigned(good)),
      "token algorithm is not accepted",
    );
    assert.equal(
      await reason(verify, await sign(good, { exp: -10 })),
      "token expired",
    );
    assert.equal(
      await reason(verify, await sign({ ...good, aud: "other" })),
      "token audience is not accepted",
    );
    assert.equal(
      await reason(
        verify,
        await sign({ ...good, iss: "https://evil.example" }),
      ),
      "token issuer is not accepted",
    );
    assert.equal(await reason(verify, "not.a.token"), "token is malformed");
    assert.equal(await reason(verify, "garbage"), "token is malformed");
  });

  test("algorithms narrows what the key accepts", async () => {
    const verify = await verifierFor(secretKey, { algorithms: ["HS256"] });
    assert.equal(
      await reason(verify, await sign({}, { alg: "HS256" })),
      "accepted",
    );
    assert.equal(
      await reason(verify, await sign({}, { alg: "HS512" })),
      "token algorithm is not accepted",
    );
  });

  for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
    test(`a ${alg} public key PEM verifies its tokens and nothing else`, async () => {
      const pair = keys.pairs[alg];
      const verify = await verifierFor({ kind: "pem", pem: pair.pem });
      assert.equal(
        await reason(
          verify,
          await sign({ sub: "42" }, { alg, key: pair.privateKey }),
        ),
        "accepted",
      );
      const other = await generateKeyPair(alg);
      assert.equal(
        await reason(
          verify,
          await sign({ sub: "42" }, { alg, key: other.privateKey }),
        ),
        "token signature is not valid",
      );
      // Algorithm confusion: the public key text used as an HMAC secret.
      const confused = await sign({ sub: "42" }, {
        alg: "HS256",
        key: new TextEncoder().encode(pair.pem),
      });
      assert.equal(
        await reason(verify, confused),
        "token algorithm is not accepted",
      );
      assert.equal(
        await reason(verify, unsigned({ sub: "42" })),
        "token algorithm is not accepted",
      );
    });
  }

  test("a JWKS file verifies tokens of each of its keys, with or without kid", async () => {
    const verify = await verifierFor({ kind: "jwks", json: keys.jwks });
    const es = keys.pairs.ES256;
    const ed = keys.pairs.EdDSA;
    assert.equal(
      await reason(
        verify,
        await sign({ sub: "1" }, {
          alg: "ES256",
          key: es.privateKey,
          kid: "es",
        }),
      ),
      "accepted",
    );
    assert.equal(
      await reason(
        verify,
        await sign({ sub: "1" }, { alg: "ES256", key: es.privateKey }),
      ),
      "accepted",
    );
    assert.equal(
      await reason(
        verify,
        await sign({ sub: "1" }, { alg: "EdDSA", key: ed.privateKey }),
      ),
      "accepted",
    );
    assert.equal(
      await reason(
        verify,
        await sign({ sub: "1" }, {
          alg: "RS256",
          key: keys.pairs.RS256.privateKey,
        }),
      ),
      "token algorithm is not accepted",
    );
    const stranger = await generateKeyPair("ES256");
    assert.equal(
      await reason(
        verify,
        await sign({ sub: "1" }, { alg: "ES256", key: stranger.privateKey }),
      ),
      "token signature is not valid",
    );
  });

  test("createVerificationKey refuses keys and algorithms that do not fit", async () => {
    await assert.rejects(
      createVerificationKey(secretKey, ["RS256"]),
      {
        name: "TypeError",
        message:
          '"RS256" cannot be verified with this key; it fits HS256, HS384, HS512',
      },
    );
    await assert.rejects(
      createVerificationKey({ kind: "pem", pem: keys.pairs.ES256.pem }, [
        "ES384",
      ]),
      /"ES384" cannot be verified with this key; it fits ES256/,
    );
    await assert.rejects(
      createVerificationKey({
        kind: "pem",
        pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
      }),
      /expected a public key, found a private key/,
    );
    await assert.rejects(
      createVerificationKey({ kind: "pem", pem: "hello" }),
      /expected a PEM/,
    );
    await assert.rejects(
      createVerificationKey({ kind: "jwks", json: "{" }),
      /not JSON/,
    );
    await assert.rejects(
      createVerificationKey({
        kind: "jwks",
        json: JSON.stringify({ keys: [{ kty: "oct", k: "c2VjcmV0" }] }),
      }),
      /keys\[0\] is a private or symmetric key/,
    );
  });
});

describe("room patterns", () => {
  test("compileRooms matches exact names, prefix.* at any depth, and *", () => {
    const match = compileRooms(["orders", "team.*"]);
    assert.equal(match("orders"), true);
    assert.equal(match("orders.eu"), false);
    assert.equal(match("team.red"), true);
    assert.equal(match("team.red.chat"), true);
    assert.equal(match("team"), false);
    assert.equal(match("team."), false);
    assert.equal(match("teamwork"), false);
    assert.equal(compileRooms(["*"])("anything"), true);
    assert.equal(compileRooms([])("orders"), false);
  });
});

describe("subscriber authorizer", () => {
  const authorizer = async (
    options: { anonymous?: boolean; query?: boolean; publicRooms?: string[] } =
      {},
  ) =>
    createAuthorizer({
      verify: await verifierFor(secretKey),
      realm: "sse",
      cookie: "hypha_token",
      allowQueryToken: options.query ?? false,
      anonymous: options.anonymous ?? false,
      publicRooms: options.publicRooms ?? [],
    });
  const ask = async (
    authorize: Awaited<ReturnType<typeof authorizer>>,
    search: string,
    headers: Record<string, string> = {},
  ): Promise<Grant | { status: number; body: string; auth: string | null }> => {
    const query = parseSubscriberQuery(search) as SubscriberQuery;
    const result = await authorize(
      new Request(`http://hypha/events${search}`, { headers }),
      query,
      { remoteAddr: "127.0.0.1" },
    );
    if (!(result instanceof Response)) return result;
    return {
      status: result.status,
      body: (await result.text()).trim(),
      auth: result.headers.get("www-authenticate"),
    };
  };

  test("a token binds user and rooms; exp becomes the grant's expiry", async () => {
    const authorize = await authorizer();
    const token = await sign({ sub: "42", rooms: ["orders", "team.*"] }, {
      exp: 60,
    });
    const grant = await ask(authorize, "?rooms=orders,team.red", {
      authorization: `Bearer ${token}`,
    }) as Grant;
    assert.equal(grant.userId, "42");
    assert.deepEqual([...grant.rooms], ["orders", "team.red"]);
    assert.ok(grant.expiresAt! > Date.now() && grant.expiresAt! % 1000 === 0);
    const same = await ask(authorize, "?user_id=42", {
      authorization: `Bearer ${token}`,
    }) as Grant;
    assert.equal(same.userId, "42");
  });

  test("another user_id or a room outside the claim is 403 naming it", async () => {
    const authorize = await authorizer();
    const headers = {
      authorization: `Bearer ${await sign({ sub: "42", rooms: ["team.*"] })}`,
    };
    assert.deepEqual(await ask(authorize, "?user_id=43", headers), {
      status: 403,
      body: 'user_id "43" is not the token\'s subject',
      auth: 'Bearer realm="sse", error="insufficient_scope"',
    });
    assert.deepEqual(await ask(authorize, "?rooms=team.red,billing", headers), {
      status: 403,
      body: 'room "billing" is not allowed by the token',
      auth: 'Bearer realm="sse", error="insufficient_scope"',
    });
  });

  test("token sources: header, then cookie, then query when allowed", async () => {
    const authorize = await authorizer({ query: true });
    const a = await sign({ sub: "a" });
    const b = await sign({ sub: "b" });
    const c = await sign({ sub: "c" });
    const who = async (search: string, headers: Record<string, string>) =>
      ((await ask(authorize, search, headers)) as Grant).userId;
    assert.equal(
      await who(`?token=${c}`, {
        authorization: `Bearer ${a}`,
        cookie: `hypha_token=${b}`,
      }),
      "a",
    );
    assert.equal(
      await who(`?token=${c}`, { cookie: `theme=dark; hypha_token=${b}` }),
      "b",
    );
    assert.equal(await who(`?token=${c}`, {}), "c");
    assert.equal(await who(`?token=${c}`, { cookie: "hypha_token=" }), "c");
  });

  test("a query token while they are disabled is 401, even with a header token", async () => {
    const authorize = await authorizer({ anonymous: true });
    const token = await sign({ sub: "42" });
    const both: Record<string, string>[] = [{}, {
      authorization: `Bearer ${token}`,
    }];
    for (const headers of both) {
      assert.deepEqual(await ask(authorize, `?token=${token}`, headers), {
        status: 401,
        body: "query tokens are disabled",
        auth:
          'Bearer realm="sse", error="invalid_request", error_description="query tokens are disabled"',
      });
    }
  });

  test("refusals never repeat the token", async () => {
    const authorize = await authorizer();
    const token = await sign({ sub: "42" }, { exp: -5 });
    const refused = await ask(authorize, "", {
      authorization: `Bearer ${token}`,
    }) as { body: string; auth: string };
    assert.equal(refused.body, "token expired");
    assert.ok(!refused.auth.includes(token) && !refused.body.includes(token));
    assert.deepEqual(
      await ask(authorize, "", { authorization: "Basic dXNlcjpwYXNz" }),
      {
        status: 401,
        body: "the Authorization header must be a Bearer token",
        auth:
          'Bearer realm="sse", error="invalid_request", error_description="the Authorization header must be a Bearer token"',
      },
    );
  });

  test("without a token: 401, or anonymous with broadcasts and public rooms only", async () => {
    const closed = await authorizer();
    assert.deepEqual(await ask(closed, ""), {
      status: 401,
      body: "a token is required",
      auth: 'Bearer realm="sse"',
    });
    const open = await authorizer({
      anonymous: true,
      publicRooms: ["lobby", "news.*"],
    });
    const grant = await ask(open, "?rooms=lobby,news.sport") as Grant;
    assert.deepEqual([...grant.rooms], ["lobby", "news.sport"]);
    assert.equal(grant.userId, undefined);
    assert.equal(grant.expiresAt, undefined);
    assert.equal(
      ((await ask(open, "?room=vip")) as { body: string }).body,
      'room "vip" needs a token',
    );
    assert.equal(
      ((await ask(open, "?user_id=42")) as { body: string }).body,
      "user_id needs a token",
    );
  });

  test("a token may also join public rooms", async () => {
    const authorize = await authorizer({ publicRooms: ["lobby"] });
    const headers = {
      authorization: `Bearer ${await sign({ sub: "42", rooms: ["orders"] })}`,
    };
    const grant = await ask(authorize, "?rooms=orders,lobby", headers) as Grant;
    assert.deepEqual([...grant.rooms], ["orders", "lobby"]);
  });

  test("readCookie finds the named cookie and unquotes it", () => {
    assert.equal(
      readCookie('a=1; hypha_token="x.y.z"; b=2', "hypha_token"),
      "x.y.z",
    );
    assert.equal(readCookie("hypha_tokenx=1", "hypha_token"), undefined);
    assert.equal(readCookie(null, "hypha_token"), undefined);
  });
});
