import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { subscribe } from "./support/clients.ts";
import { type Hypha, publish, RUNTIME, startHypha } from "./support/hypha.ts";
import { type KeyFiles, makeKeyFiles, sign } from "./support/auth.ts";
import { merge, restExample, sse } from "./support/config_builder.ts";

/** Status and body of a GET; a stream is aborted once it answers. */
async function probe(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const body = response.status === 200 ? "" : (await response.text()).trim();
  controller.abort();
  await response.body?.cancel().catch(() => {});
  return { status: response.status, body };
}

describe(`public keys, JWKS, query tokens and anonymous subscribers (${RUNTIME})`, () => {
  let keys: KeyFiles;
  let hypha: Hypha;
  let events: string;
  let jwksEvents: string;
  let api: string;

  before(async () => {
    keys = await makeKeyFiles();
    hypha = await startHypha(
      merge(
        restExample({
          auth: {
            public_key_file: keys.pairs.RS256.pemFile,
            allow_query_token: true,
            cookie: "sess",
            anonymous: true,
            public_rooms: ["lobby", "news.*"],
          },
        }),
        {
          connector: {
            keyset: sse({ auth: { jwks_file: keys.jwksFile } }),
          },
        },
      ),
    );
    events = hypha.urls.sse;
    jwksEvents = hypha.urls.keyset;
    api = hypha.urls.api.replace(/\/$/, "");
  });
  after(async () => {
    await hypha.stop();
    await keys.remove();
  });

  test("anonymous subscribers get broadcasts and public rooms, nothing else", async () => {
    const anonymous = subscribe(`${events}?rooms=lobby,news.sport`);
    await anonymous.opened;
    assert.deepEqual((await publish(`${api}/notify/lobby`, { n: 1 })).body, {
      delivered: 1,
    });
    assert.deepEqual(
      (await publish(`${api}/notify/news.sport`, { n: 2 })).body,
      { delivered: 1 },
    );
    assert.deepEqual((await publish(`${api}/notify`, { n: 3 })).body, {
      delivered: 1,
    });
    assert.deepEqual(
      (await anonymous.waitFor(3)).map((e) => JSON.parse(e.data).n),
      [1, 2, 3],
    );
    anonymous.close();
    assert.deepEqual(await probe(`${events}?room=vip`), {
      status: 401,
      body: 'room "vip" needs a token',
    });
    assert.deepEqual(await probe(`${events}?user_id=42`), {
      status: 401,
      body: "user_id needs a token",
    });
    // An invalid token is refused, not downgraded to anonymous.
    assert.deepEqual(await probe(`${events}?token=not-a-jwt`), {
      status: 401,
      body: "token is malformed",
    });
  });

  test("an RS256 token from public_key_file works in ?token= and in the configured cookie", async () => {
    const rs = keys.pairs.RS256;
    const jwt = await sign({ sub: "42", rooms: ["vip"] }, {
      alg: "RS256",
      key: rs.privateKey,
      exp: 600,
    });
    const viaQuery = subscribe(`${events}?room=vip&token=${jwt}`);
    const viaCookie = subscribe(`${events}?user_id=42`, {
      headers: { cookie: `sess=${jwt}` },
    });
    await Promise.all([viaQuery.opened, viaCookie.opened]);
    assert.deepEqual((await publish(`${api}/notify/user/42`, { n: 1 })).body, {
      delivered: 2,
    });
    assert.deepEqual((await publish(`${api}/notify/vip`, { n: 2 })).body, {
      delivered: 1,
    });
    assert.deepEqual(
      (await viaQuery.waitFor(2)).map((e) => JSON.parse(e.data).n),
      [1, 2],
    );
    assert.deepEqual(
      (await viaCookie.waitFor(1)).map((e) => JSON.parse(e.data).n),
      [1],
    );
    viaQuery.close();
    viaCookie.close();
    // The default cookie name is not read when another is configured.
    assert.deepEqual(
      await probe(`${events}?user_id=42`, { cookie: `hypha_token=${jwt}` }),
      {
        status: 401,
        body: "user_id needs a token",
      },
    );
  });

  test("tokens of other key types are refused by a PEM key", async () => {
    for (const alg of ["ES256", "EdDSA"] as const) {
      const jwt = await sign({ sub: "42" }, {
        alg,
        key: keys.pairs[alg].privateKey,
      });
      assert.deepEqual(await probe(`${events}?token=${jwt}`), {
        status: 401,
        body: "token algorithm is not accepted",
      }, alg);
    }
  });

  test("a JWKS file admits tokens of each of its keys, and no other", async () => {
    const es = await sign({ sub: "1" }, {
      alg: "ES256",
      key: keys.pairs.ES256.privateKey,
      kid: "es",
    });
    const ed = await sign({ sub: "2" }, {
      alg: "EdDSA",
      key: keys.pairs.EdDSA.privateKey,
    });
    const rs = await sign({ sub: "3" }, {
      alg: "RS256",
      key: keys.pairs.RS256.privateKey,
    });
    for (const jwt of [es, ed]) {
      assert.equal(
        (await probe(jwksEvents, { authorization: `Bearer ${jwt}` })).status,
        200,
      );
    }
    assert.deepEqual(
      await probe(jwksEvents, { authorization: `Bearer ${rs}` }),
      {
        status: 401,
        body: "token algorithm is not accepted",
      },
    );
    assert.deepEqual(await probe(jwksEvents), {
      status: 401,
      body: "a token is required",
    });
  });
});
