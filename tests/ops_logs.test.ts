import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { publish, RUNTIME, startHypha } from "./support/hypha.ts";
import {
  closeConnection,
  connectBroker,
  throwawayTopology,
  uniqueName,
} from "./support/rabbitmq.ts";

const JWT_SECRET = "jwt-secret-for-the-json-log-test-0123456789";
const PUBLISH_TOKEN = "publish-token-for-the-json-log-test";
const ADMIN_TOKEN = "admin-token-for-the-json-log-test";

describe(`JSON logs (${RUNTIME})`, () => {
  test("with log_format = json every line is one JSON object with time, level and msg, and no secret appears", async () => {
    const exchange = uniqueName("x");
    const queue = uniqueName("q");
    const connection = uniqueName("jsonlog");
    const broker = await connectBroker();
    const hypha = await startHypha(`
[service]
log_format = "json"
log_level = "debug"
[service.admin]
port = 0
[service.admin.auth]
tokens = ["${ADMIN_TOKEN}"]

[connector.sse]
type = "sse"
host = "127.0.0.1"
port = 0
[connector.sse.auth]
jwt_secret = "${JWT_SECRET}"
allow_query_token = true

[connector.api]
type = "rest"
host = "127.0.0.1"
port = 0
[connector.api.auth]
tokens = ["${PUBLISH_TOKEN}"]

[connector.rabbit]
type = "mq"
driver = "rabbitmq"
reconnect_delay = "200ms"
${throwawayTopology(connection, exchange, queue)}

[flow.feed.from]
connector = "rabbit"
operation = "feed.#"
[flow.feed.to]
connector = "sse"
operation = "broadcast"

[flow.notify.from]
connector = "api"
operation = "POST /notify"
[flow.notify.to]
connector = "sse"
operation = "broadcast"
`);
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
});
