import assert from "node:assert/strict";
import http2 from "node:http2";
import { connect } from "node:net";
import tls from "node:tls";
import { describe, test } from "node:test";
import { publish, RUNTIME, startHypha } from "./support/hypha.ts";
import { curlGet, makeCertificate, tlsFiles } from "./support/https.ts";
import {
  closeConnection,
  connectBroker,
  uniqueName,
} from "./support/rabbitmq.ts";
import {
  flow,
  merge,
  rabbit,
  rest,
  restExample,
  sse,
  throwawayTopology,
} from "./support/config_builder.ts";

const JWT_SECRET = "jwt-secret-for-the-json-log-test-0123456789";
const PUBLISH_TOKEN = "publish-token-for-the-json-log-test";
const ADMIN_TOKEN = "admin-token-for-the-json-log-test";

describe(`JSON logs (${RUNTIME})`, () => {
  test("with log_format = json every line is one JSON object with time, level and msg, and no secret appears", async () => {
    const exchange = uniqueName("x");
    const queue = uniqueName("q");
    const connection = uniqueName("jsonlog");
    const broker = await connectBroker();
    const hypha = await startHypha({
      service: {
        log_format: "json",
        log_level: "debug",
        admin: { port: 0, auth: { tokens: [ADMIN_TOKEN] } },
      },
      connector: {
        sse: sse({ auth: { jwt_secret: JWT_SECRET, allow_query_token: true } }),
        api: rest({ auth: { tokens: [PUBLISH_TOKEN] } }),
        rabbit: rabbit(merge(throwawayTopology(connection, exchange, queue), {
          reconnect_delay: "200ms",
        })),
      },
      flow: {
        feed: flow(
          { connector: "rabbit", operation: "feed.#" },
          { connector: "sse", operation: "broadcast" },
        ),
        notify: flow(
          { connector: "api", operation: "POST /notify" },
          { connector: "sse", operation: "broadcast" },
        ),
      },
    });
    try {
      await hypha.waitForLine(/"msg":"connected"/);
      // Lines with URLs and refusals: a cut broker connection, bad tokens.
      await closeConnection(connection);
      await hypha.waitForLine(/"msg":"retrying"|"msg":"disconnected"/);
      await hypha.waitForLine(/"msg":"connected"/);
      await publish(`${hypha.urls.api}`, { n: 1 }, {
        authorization: `Bearer ${PUBLISH_TOKEN}`,
      });
      await fetch(`${hypha.urls.sse}?token=${JWT_SECRET}`).then((r) =>
        r.body?.cancel()
      );
      await broker.publish(exchange, "feed.x", "not JSON");
      await hypha.waitForLine(/"msg":"rejected message"/);
    } finally {
      assert.equal(await hypha.stop(), 0);
      await broker.cleanup({ queues: [queue], exchanges: [exchange] });
    }
    const entries = hypha.lines.filter((l) => l !== "").map((line) => {
      const entry = JSON.parse(line);
      assert.equal(typeof entry, "object", line);
      assert.match(
        entry.time,
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
        line,
      );
      assert.ok(["debug", "info", "warn", "error"].includes(entry.level), line);
      assert.equal(typeof entry.msg, "string", line);
      return entry;
    });
    const msgs = entries.map((e) => e.msg);
    for (const msg of ["starting", "listening", "ready", "stopped"]) {
      assert.ok(msgs.includes(msg), `no "${msg}" line in ${msgs.join(", ")}`);
    }
    const connected = entries.find((e) => e.msg === "connected");
    assert.equal(connected.connector, "rabbit");
    assert.equal(connected.url, "amqp://guest:***@127.0.0.1:5672");
    const text = hypha.lines.join("\n");
    for (
      const secret of [JWT_SECRET, PUBLISH_TOKEN, ADMIN_TOKEN, "guest:guest"]
    ) {
      assert.ok(!text.includes(secret), `the log shows ${secret}`);
    }
  });

  test("with log_format = json over TLS, clients that reset HTTP/2 streams or send garbage leave only JSON lines on stderr", async () => {
    const cert = await makeCertificate();
    const hypha = await startHypha(
      merge(restExample({ tls: tlsFiles(cert) }), {
        service: { log_format: "json" },
      }),
    );
    const url = new URL(hypha.urls.sse);
    try {
      // Only Deno's listener speaks HTTP/2 (Bun's is HTTP/1.1).
      if (RUNTIME === "deno") await resetStreams(url.origin, 200);
      const alpn = RUNTIME === "deno" ? "h2" : "http/1.1";
      await sendOverTls(Number(url.port), alpn, GARBAGE_FRAMES);
      await sendOverTls(Number(url.port), alpn, "GET / HTTP/1.1\r\n\r\n");
      await sendRaw(Number(url.port), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      assert.match(await curlGet(`${url.origin}/healthz`), /^HTTP\/\S+ 200/);
    } finally {
      assert.equal(await hypha.stop(), 0);
      await cert.remove();
    }
    for (const line of hypha.lines.filter((l) => l !== "")) {
      assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
    }
  });
});

/** The HTTP/2 preface, an empty SETTINGS, then a frame of 16 MB that never comes. */
const GARBAGE_FRAMES = Buffer.concat([
  Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
  Buffer.from("000000040000000000ffffff00ff00000001", "hex"),
]);

/**
 * Opens `count` streams and resets each at once: past h2's limit of reset
 * streams the server ends the connection (GOAWAY), and Deno's own logger
 * writes a warning about it unless started with --quiet.
 */
async function resetStreams(origin: string, count: number): Promise<void> {
  const session = http2.connect(origin, { rejectUnauthorized: false });
  session.on("error", () => {});
  await new Promise<void>((resolve) => {
    session.on("goaway", () => resolve());
    session.on("close", () => resolve());
    for (let i = 0; i < count; i++) {
      const request = session.request({ ":path": "/events" });
      request.on("error", () => {});
      request.close(http2.constants.NGHTTP2_CANCEL);
    }
    // Frames are read in order: its answer comes after the resets' effects.
    const last = session.request({ ":path": "/healthz" });
    last.on("error", () => resolve());
    last.on("close", () => resolve());
    last.resume();
  });
  session.destroy();
}

/** Sends `bytes` over TLS with `alpn` and waits until the server closes. */
async function sendOverTls(
  port: number,
  alpn: string,
  bytes: string | Uint8Array,
): Promise<void> {
  const socket = tls.connect({
    host: "127.0.0.1",
    port,
    rejectUnauthorized: false,
    ALPNProtocols: [alpn],
  });
  socket.on("error", () => {});
  await new Promise((resolve) => socket.on("secureConnect", resolve));
  socket.write(bytes);
  socket.resume();
  await new Promise((resolve) => socket.on("close", resolve));
}

/** Sends plain bytes where TLS is expected; waits until the server closes. */
async function sendRaw(port: number, bytes: string): Promise<void> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  socket.write(bytes);
  socket.resume();
  await new Promise((resolve) => socket.on("close", resolve));
}
