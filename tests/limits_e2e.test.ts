/**
 * Connection limits hold when connections race through token verification:
 * the attack of the hardening issue, with raw sockets and valid tokens.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SECRET, sign } from "./support/auth.ts";
import { rawRequest } from "./support/clients.ts";
import { RUNTIME, startHypha } from "./support/hypha.ts";
import { merge, restExample } from "./support/config_builder.ts";

/** Opens `n` streams at once with a valid token; counts the status codes. */
async function race(url: string, n: number, token: string) {
  const request =
    `GET /events?user_id=42 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`;
  const sockets = await Promise.all(
    Array.from({ length: n }, () => rawRequest(url, request)),
  );
  const heads = await Promise.all(
    sockets.map((s) => s.waitFor(/^HTTP\/1\.1 \d{3}/)),
  );
  const statuses: Record<string, number> = {};
  for (const head of heads) {
    const status = head.slice(9, 12);
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
  for (const s of sockets) s.close();
  return statuses;
}

// workers = 2: the limits hold across delivery threads sharing the port.
for (const workers of [1, 2]) {
  describe(`connection limits under concurrency (${RUNTIME}, workers = ${workers})`, () => {
    for (
      const [limit, refused] of [
        ["max_connections_per_ip", "429"],
        ["max_connections", "503"],
      ] as const
    ) {
      test(`${limit} = 5: of 200 token connections opened at once, 5 are admitted and the rest get ${refused}`, async () => {
        const hypha = await startHypha(
          merge(
            restExample({ [limit]: 5, auth: { jwt_secret: SECRET } }),
            { service: { workers } },
          ),
        );
        try {
          const token = await sign({ sub: "42" });
          const statuses = await race(hypha.urls.sse, 200, token);
          assert.deepEqual(statuses, { "200": 5, [refused]: 195 });
          // Slots come back when streams end: the limit is not leaked.
          const health = hypha.urls.sse.replace("/events", "/healthz");
          for (;;) {
            const text = await (await fetch(health)).text();
            if (text === "ok 0 connections\n") break;
          }
          const again = await race(hypha.urls.sse, 5, token);
          assert.deepEqual(again, { "200": 5 });
        } finally {
          await hypha.stop();
        }
      });
    }
  });
}
