/**
 * Mycel's HCL mapped onto hypha's raw config, tested on the mapped object
 * itself (so these run whatever keys the schema has today), and the errors
 * that name file:line for what cannot be carried over.
 */

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, test } from "node:test";
import { parse as parseToml } from "smol-toml";
import { rewriteEnvelope } from "../src/config/hcl/envelope.ts";
import { readHcl } from "../src/config/hcl/load_hcl.ts";
import { interpolate } from "../src/config/interpolate.ts";
import { mapHcl } from "../src/config/hcl/map.ts";
import { outline } from "../src/config/hcl/outline.ts";
import { parseHcl } from "../src/config/hcl/parse.ts";
import { toToml } from "../src/config/hcl/translate.ts";
import type { Mode } from "../src/config/hcl/values.ts";
import { ConfigError, loadConfig } from "../src/config/load.ts";

const FIXTURES = new URL("./fixtures/mycel/", import.meta.url).pathname;

async function map(
  text: string,
  env: Record<string, string> = {},
  mode: Mode = "run",
) {
  const json = await parseHcl("app.hcl", text);
  return mapHcl([{ file: "app.hcl", text, json }], env, mode);
}

async function mapFixture(name: string, env: Record<string, string> = {}) {
  const file = FIXTURES + name;
  const text = await readFile(file, "utf8");
  return mapHcl(
    [{ file: name, text, json: await parseHcl(name, text) }],
    env,
    "run",
  );
}

/** The errors of mapping `text`. */
async function errorsOf(text: string): Promise<string[]> {
  const m = await map(text);
  assert.ok(m.errors.length > 0, "the config was accepted");
  return m.errors;
}

const SSE = `connector "events" {\n  type = "sse"\n}\n`;
const RABBIT = (body = "") =>
  `connector "rabbit" {\n  type = "mq"\n  queue {\n    name = "q"\n  }\n${body}}\n`;

describe("Mycel HCL: SSE and REST", () => {
  test("the seed's SSE + REST service maps onto the same tables as its TOML", async () => {
    const m = await mapFixture("sse_rest.hcl", { SSE_PORT: "4100" });
    assert.deepEqual(m.errors, []);
    assert.deepEqual(m.raw.connector, {
      api: { type: "rest", port: "3000" },
      events: {
        type: "sse",
        port: "4100",
        path: "/events",
        heartbeat_interval: "30s",
        cors: { origins: ["*"] },
      },
    });
    assert.deepEqual((m.raw.flow as Record<string, unknown>).notify_user, {
      from: { connector: "api", operation: "POST /notify/user/:user_id" },
      to: {
        connector: "events",
        operation: "send_to_user",
        target: "input.user_id",
      },
    });
    assert.deepEqual(m.raw.service, { name: "sse-demo" });
  });

  test("an SSE port that is 0 or not set is Mycel's 3002, a REST one 3000", async () => {
    const m = await map(
      `${SSE}connector "api" {\n  type = "rest"\n  port = 0\n}\n`,
    );
    const c = m.raw.connector as Record<string, Record<string, unknown>>;
    assert.equal(c.events.port, 3002);
    assert.equal(c.api.port, 3000);
    assert.ok(m.notes.some((n) => n.path === "connector.events.port"));
  });

  test("hypha's own connector keys are read in HCL as in TOML", async () => {
    const m = await map(
      `connector "events" {\n  type = "sse"\n  stall_timeout = "5s"\n  history {\n    size = 10\n  }\n}\n`,
    );
    assert.deepEqual(m.errors, []);
    const c = (m.raw.connector as Record<string, Record<string, unknown>>)
      .events;
    assert.equal(c.stall_timeout, "5s");
    assert.deepEqual(c.history, { size: 10 });
  });

  test('env("X") is empty when X is unset; env("X", "d") is d', async () => {
    const m = await map(
      `service {\n  name = "\${env("A")}-\${env("B", "b")}-\${env("C", "c")}"\n}\n`,
      { C: "set" },
    );
    assert.deepEqual(m.raw.service, { name: "-b-set" });
  });

  test("translated, env() is written as ${X:-default} and no value is read", async () => {
    const m = await map(
      `connector "rabbit" {\n  type = "mq"\n  url = env("URL")\n  password = env("PW", "guest")\n  consumer {\n    queue = "q"\n  }\n}\n`,
      { URL: "amqp://secret@host", PW: "secret" },
      "translate",
    );
    const c = (m.raw.connector as Record<string, Record<string, unknown>>)
      .rabbit;
    assert.equal(c.url, "${URL:-}");
    assert.equal(c.password, "${PW:-guest}");
    assert.doesNotMatch(toToml(m, "app.hcl"), /secret/);
  });

  test("a directory's files are merged, and hypha loads it", async () => {
    const loaded = await loadConfig(
      FIXTURES + "split",
      (p) => readFile(p, "utf8"),
      { SSE_PORT: "4100" },
    );
    assert.deepEqual(Object.keys(loaded.config.flow).sort(), [
      "everyone",
      "notify_room",
    ]);
    assert.equal(loaded.config.service.name, "split-demo");
    assert.equal(loaded.config.flow.everyone.to.operation, "broadcast");
  });
});

describe("Mycel HCL: RabbitMQ", () => {
  test("the envelope's expressions become hypha's input and meta", async () => {
    const m = await mapFixture("rabbitmq.hcl", { QUEUE: "q", EXCHANGE: "x" });
    assert.deepEqual(m.errors, []);
    const flow = m.raw.flow as Record<string, Record<string, unknown>>;
    assert.deepEqual(flow.order_to_customer.transform, {
      order: "input.id",
      total: "input.total",
      currency: "meta.headers.currency",
      key: "meta.routing_key",
    });
    assert.deepEqual(flow.order_to_customer.to, {
      connector: "events",
      operation: "send_to_user",
      target: "input.customer.id",
    });
    assert.equal(
      flow.dashboard.filter,
      "input.total >= 100 && meta.headers.source != 'test'",
    );
    assert.equal(
      (flow.dashboard.to as Record<string, unknown>).target,
      "dashboard",
    );
    // Mycel gives a message to one flow, hypha to every match: said on both.
    assert.deepEqual(
      m.notes.filter((n) => n.path.endsWith("from.operation"))
        .map((n) => n.path).sort(),
      [
        "flow.dashboard.from.operation",
        "flow.order_to_customer.from.operation",
      ],
    );
  });

  test("Mycel's RabbitMQ defaults are written where hypha's differ", async () => {
    const m = await mapFixture("rabbitmq.hcl", { QUEUE: "q", EXCHANGE: "x" });
    const rabbit = (m.raw.connector as Record<string, Record<string, unknown>>)
      .rabbit;
    assert.equal(rabbit.max_reconnects, 10);
    assert.deepEqual(rabbit.consumer, {
      prefetch: 10,
      dlq: { queue: "", enabled: true, exchange: "x.dlx" },
    });
    const bare = await map(
      RABBIT(`  exchange {\n    name = "ex"\n  }\n`),
    );
    const c = (bare.raw.connector as Record<string, Record<string, unknown>>)
      .rabbit;
    assert.deepEqual(c.exchange, {
      name: "ex",
      type: "direct",
      routing_key: "q",
      create_if_missing: false,
    });
    assert.deepEqual(c.queue, { name: "q", create_if_missing: false });
    // Without a consumer block too: Mycel's consumer defaults still apply.
    assert.deepEqual(c.consumer, { prefetch: 10 });
  });

  test("a RabbitMQ connector without a queue name is refused, as Mycel refuses it", async () => {
    const [error] = await errorsOf(`connector "rabbit" {\n  type = "mq"\n}\n`);
    assert.match(
      error,
      /^app\.hcl:1: connector "rabbit": has no queue name: .*write queue \{ name = "\.\.\." \}/,
    );
  });

  test("bind_args is binding_args; consumer.queue's create_if_missing goes to the queue", async () => {
    const m = await map(
      `connector "rabbit" {\n  type = "mq"\n  exchange {\n    name = "ex"\n    bind_args = { x-match = "all" }\n  }\n  consumer {\n    queue = "q"\n    create_if_missing = true\n  }\n}\n`,
    );
    const c = (m.raw.connector as Record<string, Record<string, unknown>>)
      .rabbit;
    assert.deepEqual(
      (c.exchange as Record<string, unknown>).binding_args,
      { "x-match": "all" },
    );
    assert.deepEqual(c.queue, { create_if_missing: true });
  });

  test("tls, queue args and exchange args are carried as they are", async () => {
    const m = await map(
      `connector "rabbit" {\n  type = "mq"\n  tls {\n    enabled = true\n    cert = "/c.pem"\n    key = "/k.pem"\n    ca_cert = "/ca.pem"\n    insecure_skip_verify = false\n  }\n  queue {\n    name = "q"\n    args = {\n      "x-queue-type" = "quorum"\n      "x-max-length" = 1000\n    }\n  }\n}\n`,
    );
    assert.deepEqual(m.errors, []);
    const c = (m.raw.connector as Record<string, Record<string, unknown>>)
      .rabbit;
    assert.deepEqual(c.tls, {
      enabled: true,
      cert: "/c.pem",
      key: "/k.pem",
      ca_cert: "/ca.pem",
      insecure_skip_verify: false,
    });
    assert.deepEqual(c.queue, {
      name: "q",
      args: { "x-queue-type": "quorum", "x-max-length": 1000 },
      create_if_missing: false,
    });
  });

  test('Mycel\'s catch-all operation "*" is "#"', async () => {
    const m = await map(
      `${SSE}${RABBIT()}flow "all" {\n  from {\n    connector = "rabbit"\n    operation = "*"\n  }\n  to {\n    connector = "events"\n  }\n}\n`,
    );
    const flow = (m.raw.flow as Record<string, Record<string, unknown>>).all;
    assert.deepEqual(flow.from, { connector: "rabbit", operation: "#" });
  });

  test("a filter block with on_reject = ack is the flow's filter", async () => {
    const m = await map(
      `${SSE}${RABBIT()}flow "f" {\n  from {\n    connector = "rabbit"\n    filter {\n      condition = "input.body.ok"\n      on_reject = "ack"\n    }\n  }\n  to {\n    connector = "events"\n  }\n}\n`,
    );
    assert.deepEqual(m.errors, []);
    const flow = (m.raw.flow as Record<string, Record<string, unknown>>).f;
    assert.equal(flow.filter, "input.ok");
  });
});

describe("Mycel HCL: what cannot be carried over names file and line", () => {
  test("an unknown block names its line and says what to do", async () => {
    const [error] = await errorsOf(
      `${SSE}\ncache "redis" {\n  ttl = "1m"\n}\n`,
    );
    assert.match(
      error,
      /^app\.hcl:5: cache: hypha does not read Mycel's "cache" blocks/,
    );
    assert.match(error, /remove it/);
  });

  test("Mycel's constants are read in values, templates and CEL (not in string literals)", async () => {
    const m = await map(
      `constants {\n  queue = env("Q", "orders")\n  skus = ["A", "B"]\n  min = 100\n}\n${SSE}connector "rabbit" {\n  type = "mq"\n  queue {\n    name = constants.queue\n  }\n  connection_name = "\${constants.queue}-push"\n}\nflow "f" {\n  from {\n    connector = "rabbit"\n    filter = "input.body.sku in constants.skus && input.body.total >= constants.min && input.body.note != 'constants.min'"\n  }\n  to {\n    connector = "events"\n  }\n}\n`,
    );
    assert.deepEqual(m.errors, []);
    const c = (m.raw.connector as Record<string, Record<string, unknown>>)
      .rabbit;
    assert.equal((c.queue as Record<string, unknown>).name, "orders");
    assert.equal(c.connection_name, "orders-push");
    assert.equal(
      (m.raw.flow as Record<string, Record<string, unknown>>).f.filter,
      `input.sku in ["A","B"] && input.total >= 100 && input.note != 'constants.min'`,
    );
    const [error] = await errorsOf(
      `constants {\n  a = 1\n}\nservice {\n  name = constants.b\n}\n`,
    );
    assert.match(error, /^app\.hcl:5: service: name: no constant "b"/);
  });

  test("an unknown attribute names its line, with a suggestion", async () => {
    const [error] = await errorsOf(
      `connector "events" {\n  type = "sse"\n  heartbeat_intreval = "10s"\n}\n`,
    );
    assert.match(
      error,
      /^app\.hcl:3: connector "events": heartbeat_intreval: unknown to hypha \(did you mean "heartbeat_interval"\?\)/,
    );
  });

  test("a nested block's attribute names its own line", async () => {
    const [error] = await errorsOf(
      RABBIT(`  consumer {\n    prefetch = 5\n    exclusive = true\n  }\n`),
    );
    assert.match(
      error,
      /^app\.hcl:8: connector "rabbit" > consumer: exclusive: hypha does not consume exclusively/,
    );
  });

  test("a flow step is refused at its line", async () => {
    const [error] = await errorsOf(
      `${SSE}flow "f" {\n  from {\n    connector = "events"\n  }\n  step "lookup" {\n    connector = "db"\n  }\n  to {\n    connector = "events"\n  }\n}\n`,
    );
    assert.match(error, /^app\.hcl:8: flow "f": step: unknown to hypha/);
  });

  test("an envelope field Mycel does not have is refused with what to write", async () => {
    const [error] = await errorsOf(
      `${SSE}${RABBIT()}flow "f" {\n  from {\n    connector = "rabbit"\n  }\n  to {\n    connector = "events"\n    operation = "send_to_room"\n    target = "input.room"\n  }\n}\n`,
    );
    assert.match(
      error,
      /^app\.hcl:17: flow "f" > to: target: `input\.room`: .*write input\.body\.room/,
    );
  });

  test("a flow with two destinations, or a meta. room, is refused at its line", async () => {
    const flow = (to: string) =>
      `${SSE}flow "f" {\n  from {\n    connector = "events"\n  }\n${to}}\n`;
    const [two] = await errorsOf(
      flow(
        `  to {\n    connector = "events"\n  }\n  to {\n    connector = "events"\n  }\n`,
      ),
    );
    assert.match(
      two,
      /^app\.hcl:8: flow "f": to: a hypha flow has one destination/,
    );
    const [meta] = await errorsOf(
      flow(
        `  to {\n    connector = "events"\n    operation = "send_to_room"\n    target = "meta.ops"\n  }\n`,
      ),
    );
    assert.match(
      meta,
      /^app\.hcl:11: flow "f" > to: target: .*rename the room/,
    );
  });

  test("a name declared in two files names both", async () => {
    const a = `${SSE}`;
    const m = mapHcl(
      [
        { file: "a.hcl", text: a, json: await parseHcl("a.hcl", a) },
        { file: "b.hcl", text: `\n${a}`, json: await parseHcl("b.hcl", a) },
      ],
      {},
      "run",
    );
    assert.match(
      m.errors[0],
      /^b\.hcl:2: connector "events": already declared at a\.hcl:1/,
    );
  });

  test("invalid HCL names file, line and column", async () => {
    await assert.rejects(
      parseHcl("bad.hcl", `flow "f" {\n  from { connector = "x"\n}\n`),
      (error: Error) =>
        error instanceof ConfigError &&
        /^bad\.hcl:2:\d+: invalid HCL: /.test(error.message),
    );
  });

  test("a value the schema refuses names the HCL line", async () => {
    await assert.rejects(
      loadConfig(FIXTURES + "sse_rest.hcl", (p) => readFile(p, "utf8"), {
        SSE_PORT: "99999",
      }),
      (error: Error) =>
        /sse_rest\.hcl:16: connector\.events\.port: /.test(error.message),
    );
  });
});

describe("Mycel HCL: translate", () => {
  const env = {
    SSE_PORT: "4100",
    API_PORT: "4200",
    QUEUE: "q",
    EXCHANGE: "x",
    DLQ: "dead",
    CONNECTION_NAME: "c",
  };
  for (const fixture of ["sse_rest.hcl", "rabbitmq.hcl", "split"]) {
    test(`${fixture}: the printed TOML reads back as the same config`, async () => {
      const read = (p: string) => readFile(p, "utf8");
      const run = await readHcl(FIXTURES + fixture, read, env, "run");
      const translated = await readHcl(
        FIXTURES + fixture,
        read,
        env,
        "translate",
      );
      const toml = toToml(translated, fixture);
      const back = interpolate(parseToml(toml), env);
      assert.deepEqual(back.missing, []);
      assert.deepEqual(back.value, run.raw);
      for (const note of run.notes) {
        assert.ok(toml.includes(note.text), `note missing: ${note.text}`);
      }
    });
  }
});

describe("Mycel HCL: expressions", () => {
  test("rewriteEnvelope leaves string literals and other identifiers alone", () => {
    assert.deepEqual(
      rewriteEnvelope(
        `input.body.a + "input.body.b" + x.input.c + r'input.headers' + input.properties.message_id`,
      ),
      {
        ok: true,
        text:
          `input.a + "input.body.b" + x.input.c + r'input.headers' + meta.properties.message_id`,
      },
    );
    assert.deepEqual(rewriteEnvelope("size(input.body) > 0"), {
      ok: true,
      text: "size(input) > 0",
    });
    assert.equal(
      rewriteEnvelope("input.properties.redelivered").ok && true,
      true,
    );
    assert.equal(rewriteEnvelope("input").ok, false);
    // On a REST flow Mycel's input is the request; only its headers move.
    assert.deepEqual(
      rewriteEnvelope(
        "input.body.x + input.headers['x-a'] + input.room",
        "rest",
      ),
      { ok: true, text: "input.body.x + meta.headers['x-a'] + input.room" },
    );
  });

  test("outline finds blocks and attributes past strings, templates and comments", () => {
    const o = outline(
      `# c\nflow "a" {\n  x = "}\${env("Y")}{"\n  /* { */\n  to {\n    t = { a = 1 }\n    u = 2\n  }\n}\n`,
    );
    const flow = o.blocks[0];
    assert.equal(flow.line, 2);
    assert.equal(flow.attributes.get("x"), 3);
    assert.equal(flow.blocks[0].line, 5);
    assert.equal(flow.blocks[0].attributes.get("u"), 7);
  });
});
