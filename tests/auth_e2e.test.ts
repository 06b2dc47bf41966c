import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { generateKeyPair } from "jose";
import { rawRequest, subscribe } from "./support/clients.ts";
import { type Hypha, publish, RUNTIME, startHypha } from "./support/hypha.ts";
import { SECRET, sign, unsigned } from "./support/auth.ts";
import { merge, restExample } from "./support/config_builder.ts";

const ORIGIN = "https://app.example.com";
const ISS = "https://auth.example.com";
const PUBLISH_TOKEN = "publisher-token-3b9f0d7a1c5e";

/** What a client sees of a response; streams are aborted once answered. */
async function probe(
  url: string,
  headers: Record<string, string> = {},
  method = "GET",
) {
  const controller = new AbortController();
  const response = await fetch(url, {
    method,
    headers,
    signal: controller.signal,
  });
  const body = response.status === 200 ? "" : (await response.text()).trim();
  controller.abort();
  await response.body?.cancel().catch(() => {});
  return {
    status: response.status,
    body,
    headers: Object.fromEntries(response.headers),
  };
}

describe(`subscriber tokens end to end (${RUNTIME})`, () => {
  let hypha: Hypha;
  let events: string;
  let api: string;
  /** Every token this suite hands to hypha; none may appear in its logs. */
  const used: string[] = [];
  const token = async (
    claims: Record<string, unknown>,
    options: Parameters<typeof sign>[1] = {},
  ) => {
    const jwt = await sign({ iss: ISS, aud: "hypha", ...claims }, options);
    used.push(jwt);
    return jwt;
  };
  const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
  const post = (path: string, body: unknown) =>
    publish(`${api}${path}`, body, bearer(PUBLISH_TOKEN));

  before(async () => {
    hypha = await startHypha(
      merge(
        restExample(
          {
            cors: { allowed_origins: [ORIGIN], allow_credentials: true },
            auth: {
              jwt_secret: "${HYPHA_JWT_SECRET}",
              issuer: ISS,
              audience: "hypha",
            },
          },
          { auth: { tokens: ["${HYPHA_PUBLISH_TOKEN}"] } },
        ),
        { service: { log_level: "debug" } },
      ),
      { HYPHA_JWT_SECRET: SECRET, HYPHA_PUBLISH_TOKEN: PUBLISH_TOKEN },
    );
    events = hypha.urls.sse;
    api = hypha.urls.api.replace(/\/$/, "");
  });
  after(async () => {
    await hypha.stop();
  });

  test("a token for user 42 receives 42's events and broadcasts, not 43's", async () => {
    const u42 = subscribe(events, {
      headers: bearer(await token({ sub: "42" })),
    });
    const u42again = subscribe(`${events}?user_id=42`, {
      headers: bearer(await token({ sub: "42" }, { exp: 600 })),
    });
    const u43 = subscribe(events, {
      headers: bearer(await token({ sub: "43" })),
    });
    await Promise.all([u42.opened, u42again.opened, u43.opened]);
    assert.equal((await post("/notify/user/42", { n: 1 })).status, 202);
    assert.equal((await post("/notify/user/43", { n: 2 })).status, 202);
    assert.deepEqual(await post("/notify", { n: 3 }), {
      status: 202,
      body: { delivered: 3 },
    });
    const ns = async (s: typeof u42, count: number) =>
      (await s.waitFor(count)).map((e) => JSON.parse(e.data).n);
    assert.deepEqual(await ns(u42, 2), [1, 3]);
    assert.deepEqual(await ns(u42again, 2), [1, 3]);
    assert.deepEqual(await ns(u43, 2), [2, 3]);
    for (const s of [u42, u42again, u43]) s.close();
  });

  test("no token, another key, alg none, expired, wrong aud or iss: 401", async () => {
    const bare = await probe(events);
    assert.deepEqual([bare.status, bare.body], [401, "a token is required"]);
    assert.equal(bare.headers["www-authenticate"], 'Bearer realm="sse"');
    assert.equal(bare.headers["x-content-type-options"], "nosniff");
    const other = await generateKeyPair("RS256");
    const cases: [string, Promise<string> | string, string][] = [
      [
        "other secret",
        token({ sub: "42" }, { key: new TextEncoder().encode(SECRET + "!") }),
        "token signature is not valid",
      ],
      [
        "other algorithm",
        token({ sub: "42" }, { alg: "RS256", key: other.privateKey }),
        "token algorithm is not accepted",
      ],
      [
        "alg none",
        unsigned({ sub: "42", iss: ISS, aud: "hypha" }),
        "token algorithm is not accepted",
      ],
      ["expired", token({ sub: "42" }, { exp: -30 }), "token expired"],
      [
        "wrong aud",
        token({ sub: "42", aud: "billing" }),
        "token audience is not accepted",
      ],
      [
        "wrong iss",
        token({ sub: "42", iss: "https://evil.example" }),
        "token issuer is not accepted",
      ],
    ];
    for (const [name, pending, reason] of cases) {
      const jwt = await pending;
      used.push(jwt);
      const seen = await probe(events, bearer(jwt));
      assert.equal(seen.status, 401, name);
      assert.equal(seen.body, reason, name);
      assert.equal(
        seen.headers["www-authenticate"],
        `Bearer realm="sse", error="invalid_token", error_description="${reason}"`,
        name,
      );
      assert.equal(seen.headers["x-content-type-options"], "nosniff");
    }
  });

  test("user_id of another user, or a room outside the rooms claim: 403 naming it", async () => {
    const jwt = await token({ sub: "42", rooms: ["orders", "team.*"] });
    const u43 = await probe(`${events}?user_id=43`, bearer(jwt));
    assert.deepEqual([u43.status, u43.body], [
      403,
      'user_id "43" is not the token\'s subject',
    ]);
    assert.equal(
      u43.headers["www-authenticate"],
      'Bearer realm="sse", error="insufficient_scope"',
    );
    assert.equal(u43.headers["x-content-type-options"], "nosniff");
    for (const room of ["billing", "team", "orders.eu"]) {
      const seen = await probe(`${events}?rooms=orders,${room}`, bearer(jwt));
      assert.deepEqual(
        [seen.status, seen.body],
        [403, `room "${room}" is not allowed by the token`],
      );
    }
  });

  test("prefix.* in the rooms claim admits every room under the prefix", async () => {
    const headers = bearer(await token({ sub: "7", rooms: ["team.*"] }));
    const red = subscribe(`${events}?rooms=team.red,team.red.chat`, {
      headers,
    });
    await red.opened;
    assert.deepEqual((await post("/notify/team.red.chat", { n: 1 })).body, {
      delivered: 1,
    });
    assert.deepEqual((await post("/notify/team.blue", { n: 2 })).body, {
      delivered: 0,
    });
    assert.deepEqual((await red.waitFor(1)).map((e) => JSON.parse(e.data)), [
      { n: 1, room: "team.red.chat" },
    ]);
    red.close();
  });

  test("a token in the default cookie works; ?token= is refused while query tokens are off", async () => {
    const jwt = await token({ sub: "cookie-user" });
    const viaCookie = subscribe(events, {
      headers: { cookie: `theme=dark; hypha_token=${jwt}` },
    });
    await viaCookie.opened;
    assert.deepEqual((await post("/notify/user/cookie-user", { n: 1 })).body, {
      delivered: 1,
    });
    assert.equal(JSON.parse((await viaCookie.waitFor(1))[0].data).n, 1);
    viaCookie.close();
    const viaQuery = await probe(`${events}?token=${jwt}`);
    assert.deepEqual([viaQuery.status, viaQuery.body], [
      401,
      "query tokens are disabled",
    ]);
    assert.ok(!JSON.stringify(viaQuery).includes(jwt));
  });

  test("a stream closes at the token's exp with a retry: frame", async () => {
    const jwt = await token({ sub: "42" }, { exp: 2 });
    const raw = await rawRequest(
      events,
      `GET /events HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${jwt}\r\n\r\n`,
    );
    await raw.waitFor(/^HTTP\/1\.1 200[\s\S]*retry: \d+\n\n/);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      raw.closed,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`stream still open: ${raw.text()}`)),
          15_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    const body = raw.text().split("\r\n\r\n").slice(1).join("\r\n\r\n");
    assert.equal(body.match(/retry: \d+\n\n/g)?.length, 2, body);
    // The client comes back with the same, now expired, token: refused.
    assert.equal((await probe(events, bearer(jwt))).body, "token expired");
  });

  test("CORS with credentials: the origin is echoed with Allow-Credentials, never *", async () => {
    const jwt = await token({ sub: "42" });
    const preflight = await probe(events, {
      origin: ORIGIN,
      "access-control-request-method": "GET",
      "access-control-request-headers": "authorization",
    }, "OPTIONS");
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers["access-control-allow-origin"], ORIGIN);
    assert.equal(preflight.headers["access-control-allow-credentials"], "true");
    assert.match(
      preflight.headers["access-control-allow-headers"],
      /Authorization/,
    );
    assert.equal(preflight.headers["vary"], "Origin");
    assert.equal(preflight.headers["x-content-type-options"], "nosniff");

    const variants: Record<string, string>[] = [
      { cookie: `hypha_token=${jwt}` },
      {},
    ];
    for (const headers of variants) {
      const seen = await probe(events, { origin: ORIGIN, ...headers });
      assert.equal(seen.status, "cookie" in headers ? 200 : 401);
      assert.equal(seen.headers["access-control-allow-origin"], ORIGIN);
      assert.equal(seen.headers["access-control-allow-credentials"], "true");
      assert.equal(seen.headers["vary"], "Origin");
      assert.equal(seen.headers["x-content-type-options"], "nosniff");
    }
    const stranger = await probe(events, {
      origin: "https://evil.example",
      cookie: `hypha_token=${jwt}`,
    });
    assert.equal(stranger.status, 403);
    assert.equal(stranger.headers["access-control-allow-origin"], undefined);
    assert.equal(
      stranger.headers["access-control-allow-credentials"],
      undefined,
    );
  });

  test("REST publishing needs the publisher token: none or wrong is 401", async () => {
    const none = await publish(`${api}/notify`, { n: 1 });
    assert.deepEqual(none.body, {
      error: "a valid publisher token is required",
    });
    assert.equal(none.status, 401);
    const raw = await probe(`${api}/notify`, {
      authorization: "Bearer wrong-token",
    }, "POST");
    assert.equal(raw.status, 401);
    assert.equal(
      raw.headers["www-authenticate"],
      'Bearer realm="api", error="invalid_token"',
    );
    assert.equal(raw.headers["x-content-type-options"], "nosniff");
    const bare = await probe(`${api}/notify`, {}, "POST");
    assert.equal(bare.headers["www-authenticate"], 'Bearer realm="api"');
    assert.equal((await probe(`${api}/stats`)).status, 401);
    const right = await post("/notify", { n: 2 });
    assert.equal(right.status, 202);
    // /stats lives on the admin listener now, not on the publish port.
    const stats = await probe(`${api}/stats`, bearer(PUBLISH_TOKEN));
    assert.equal(stats.status, 404);
    assert.equal(stats.headers["x-content-type-options"], "nosniff");
  });

  test("every answer carries x-content-type-options: nosniff", async () => {
    const jwt = await token({ sub: "42" });
    const answers = [
      await probe(events, bearer(jwt)), // 200 stream
      await probe(events.replace(/\/events$/, "/nope"), bearer(jwt)), // 404
      await probe(events, bearer(jwt), "POST"), // 405
      await probe(`${events}?user_id=%00`, bearer(jwt)), // 400
      await probe(`${api}/nope`, bearer(PUBLISH_TOKEN), "POST"), // 404
      await probe(`${api}/notify`, bearer(PUBLISH_TOKEN), "POST"), // 415
    ];
    assert.deepEqual(answers.map((a) => a.status), [
      200,
      404,
      405,
      400,
      404,
      415,
    ]);
    for (const a of answers) {
      assert.equal(
        a.headers["x-content-type-options"],
        "nosniff",
        JSON.stringify(a),
      );
    }
  });

  test("the logs (at debug level) contain none of the tokens, secrets or cookies used", () => {
    assert.ok(used.length >= 15, `only ${used.length} tokens were used`);
    const log = hypha.lines.join("\n");
    assert.match(log, /INFO\s+ready/);
    for (const secret of [...used, SECRET, PUBLISH_TOKEN]) {
      assert.ok(
        !log.includes(secret),
        `the log contains ${secret.slice(0, 12)}...`,
      );
      // A signature alone is as good as the token for nothing, but a
      // payload segment would reveal who connected: check each part.
      for (const part of secret.split(".").filter((p) => p.length > 20)) {
        assert.ok(!log.includes(part));
      }
    }
  });
});
