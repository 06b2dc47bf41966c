import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { errorOf, SSE } from "./support/config_errors.ts";
import { adminUrl, RUNTIME, startHypha } from "./support/hypha.ts";
import { scrape } from "./support/metrics.ts";
import {
  closeConnection,
  connectBroker,
  eventually,
  uniqueName,
} from "./support/rabbitmq.ts";
import {
  merge,
  rabbitConfig,
  sse,
  throwawayTopology,
} from "./support/config_builder.ts";

const ADMIN_TOKEN = "admin-token-for-tests-0123456789";

describe(`admin listener (${RUNTIME})`, () => {
  test("/readyz is 503 naming the broker connector while its connection is cut, and 200 after the reconnect", async () => {
    const exchange = uniqueName("x");
    const queue = uniqueName("q");
    const connection = uniqueName("readyz");
    const broker = await connectBroker();
    // The reconnect waits ~2 s, long enough for the probe to see the gap.
    const hypha = await startHypha(
      rabbitConfig(merge(throwawayTopology(connection, exchange, queue), {
        reconnect_delay: "2s",
      })),
    );
    try {
      await hypha.waitForLine(/INFO\s+connected connector=rabbit/);
      const readyz = async () => {
        const r = await fetch(adminUrl(hypha, "/readyz"));
        return { status: r.status, body: await r.text() };
      };
      assert.deepEqual(await readyz(), { status: 200, body: "ready\n" });
      const healthz = await fetch(adminUrl(hypha, "/healthz"));
      assert.equal(healthz.status, 200);
      assert.equal(await healthz.text(), "ok\n");

      assert.equal(await closeConnection(connection), 1);
      let down = { status: 0, body: "" };
      await eventually("readyz 503", async () => {
        down = await readyz();
        return down.status === 503;
      });
      assert.equal(
        down.body,
        "not ready\nrabbit: not connected to the broker\n",
      );
      const during = await scrape(adminUrl(hypha, "/metrics"));
      assert.equal(
        during.value("hypha_amqp_connected", { connector: "rabbit" }),
        0,
      );
      // SSE listeners keep answering their own health check meanwhile.
      assert.equal(
        (await fetch(new URL("/healthz", hypha.urls.sse))).status,
        200,
      );

      await eventually(
        "readyz 200 again",
        async () => (await readyz()).status === 200,
      );
      const after = await scrape(adminUrl(hypha, "/metrics"));
      assert.equal(
        after.value("hypha_amqp_connected", { connector: "rabbit" }),
        1,
      );
      assert.equal(
        after.value("hypha_amqp_reconnects_total", { connector: "rabbit" }),
        1,
      );
    } finally {
      await hypha.stop();
      await broker.cleanup({ queues: [queue], exchanges: [exchange] });
    }
  });

  test("with tokens, /metrics and /stats need the bearer token; /healthz and /readyz stay open for probes", async () => {
    const hypha = await startHypha({
      service: { admin: { port: 0, auth: { tokens: [ADMIN_TOKEN] } } },
      connector: { sse: sse() },
    });
    try {
      const get = (path: string, token?: string) =>
        fetch(adminUrl(hypha, path), {
          headers: token ? { authorization: `Bearer ${token}` } : {},
        }).then(async (r) => ({
          status: r.status,
          type: r.headers.get("content-type"),
          auth: r.headers.get("www-authenticate"),
          body: await r.text(),
        }));
      for (const path of ["/metrics", "/stats"]) {
        const none = await get(path);
        assert.equal(none.status, 401);
        assert.equal(none.auth, 'Bearer realm="admin"');
        const wrong = await get(path, "wrong-token");
        assert.equal(wrong.status, 401);
        assert.equal(wrong.auth, 'Bearer realm="admin", error="invalid_token"');
        assert.equal((await get(path, ADMIN_TOKEN)).status, 200);
      }
      const metrics = await get("/metrics", ADMIN_TOKEN);
      assert.match(metrics.type!, /^text\/plain; version=0\.0\.4/);
      assert.match(metrics.body, /^hypha_connections\{connector="sse"\} 0$/m);
      assert.equal((await get("/healthz")).status, 200);
      assert.equal((await get("/readyz")).body, "ready\n");
      assert.equal((await get("/nothing", ADMIN_TOKEN)).status, 404);
      // /stats is no longer on an SSE or publish port.
      assert.equal(
        (await fetch(new URL("/stats", hypha.urls.sse))).status,
        404,
      );
      // The startup log never prints the token.
      assert.ok(!hypha.lines.join("\n").includes(ADMIN_TOKEN));
    } finally {
      await hypha.stop();
    }
  });
});

describe("admin listener config", () => {
  test("a non-loopback admin listener without a token is refused, like a REST source", () => {
    assert.match(
      errorOf(`${SSE}[service.admin]\nhost = "0.0.0.0"\nport = 9090\n`),
      /^hypha\.toml: service\.admin\.auth: the admin listener listens on "0\.0\.0\.0", reachable from other machines, without an admin token: anyone could read every metric and counter; set \[service\.admin\.auth\] tokens = \["\$\{HYPHA_ADMIN_TOKEN\}"\], bind host = "127\.0\.0\.1", or set insecure = true$/,
    );
    assert.match(
      errorOf(
        `${SSE}[service.admin]\nhost = "0.0.0.0"\nport = 9090\n[service.admin.auth]\ntokens = ["\${T:-}"]\n`,
      ),
      /without an admin token \(a token in auth\.tokens is empty: is its environment variable set\?\)/,
    );
  });

  test("the admin port may not be an SSE connector's port", () => {
    assert.match(
      errorOf(
        `${SSE}host = "127.0.0.1"\n[service.admin]\nport = 3002\n`,
      ),
      /^hypha\.toml: service\.admin\.port: port 3002 on 127\.0\.0\.1 is already used by connector\.sse$/,
    );
  });
});
