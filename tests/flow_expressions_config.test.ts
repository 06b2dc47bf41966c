import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseConfig } from "../src/config/load.ts";
import { fromEnvelope } from "../src/config/check_flow_expressions.ts";
import { compileCel } from "../src/core/flows/cel.ts";
import { errorOf, SSE } from "./support/config_errors.ts";

const REST = `${SSE}[connector.api]\ntype = "rest"\nport = 8080\n`;
const MQ = `${SSE}[connector.rabbit]\ntype = "mq"\ndriver = "rabbitmq"\n`;

/** One flow from `from`: `top` lines in [flow.f], `to` lines, then `tables`. */
const flow = (
  base: string,
  from: string,
  to: string,
  top = "",
  tables = "",
) =>
  `${base}[flow.f]\n${top}[flow.f.from]\nconnector = "${from}"\noperation = "${
    from === "api" ? "POST /x" : "a.b"
  }"\n[flow.f.to]\nconnector = "sse"\n${to}\n${tables}`;
const toRoom = (target: string) =>
  `operation = "send_to_room"\ntarget = ${JSON.stringify(target)}`;

describe("compileCel", () => {
  test("a syntax error names line and column", () => {
    assert.throws(
      () => compileCel("input.total >"),
      { name: "CelSyntaxError", message: /^at 1:\d+: / },
    );
  });

  test("an unknown name or function is refused at compile time, with its position", () => {
    assert.throws(() => compileCel("input.a + nope.b"), {
      message:
        'at 1:11: unknown name "nope" (the variables are input and meta)',
    });
    assert.throws(() => compileCel("input.name.upper()"), {
      message: 'at 1:11: unknown function "upper"',
    });
    assert.throws(() => compileCel("[1].map(x, x + y)"), {
      message: 'at 1:16: unknown name "y" (the variables are input and meta)',
    });
  });

  test("runs over input and meta and returns JSON values", () => {
    const program = compileCel(
      "{'n': int(input.n) + 1, 'rk': meta.routing_key, 'ok': size(input.s) == 3}",
    );
    assert.deepEqual(
      program.run({ input: { n: 41, s: "abc" }, meta: { routing_key: "a.b" } }),
      { ok: true, value: { n: 42, rk: "a.b", ok: true } },
    );
  });
});

describe("filter and transform in the config", () => {
  test("a bad filter names the key path and the position in the expression", () => {
    assert.equal(
      errorOf(
        flow(
          REST,
          "api",
          'operation = "broadcast"',
          'filter = "input.total >"\n',
        ),
      ),
      'hypha.toml: flow.f.filter: at 1:13: found > but expecting end of input in the CEL expression "input.total >"',
    );
  });

  test("a bad transform field names flow.<name>.transform.<field>", () => {
    assert.equal(
      errorOf(
        flow(
          REST,
          "api",
          'operation = "broadcast"',
          "",
          '[flow.f.transform]\nid = "input.id"\nname = "input.name.upper()"\n',
        ),
      ),
      'hypha.toml: flow.f.transform.name: at 1:11: unknown function "upper" in the CEL expression "input.name.upper()"',
    );
  });

  test("an empty transform table is refused", () => {
    assert.match(
      errorOf(
        flow(REST, "api", 'operation = "broadcast"', "[flow.f.transform]\n"),
      ),
      /flow\.f\.transform: expected at least one field/,
    );
  });

  test("filter and transform are accepted on REST and RabbitMQ flows", () => {
    for (const [base, from] of [[REST, "api"], [MQ, "rabbit"]]) {
      const { config } = parseConfig(
        flow(
          base,
          from,
          'operation = "broadcast"',
          'filter = "input.n > 1"\n',
          '[flow.f.transform]\nn = "input.n"\nkind = "\'fixed\'"\n',
        ),
        "hypha.toml",
        {},
      );
      assert.equal(config.flow.f.filter, "input.n > 1");
      assert.deepEqual(config.flow.f.transform, {
        n: "input.n",
        kind: "'fixed'",
      });
    }
  });
});

describe("literal targets", () => {
  test("a target not starting with input. or meta. is a room or user name", () => {
    for (const target of ["dashboard", "ops room", "inputs", "metadata.x"]) {
      const { config } = parseConfig(
        flow(REST, "api", toRoom(target)),
        "hypha.toml",
        {},
      );
      assert.equal(config.flow.f.to.target, target);
    }
  });

  test("a literal that is not a valid name is refused", () => {
    assert.equal(
      errorOf(flow(REST, "api", toRoom("bad\u0007room"))),
      'hypha.toml: flow.f.to.target: "bad\\u0007room" is not a valid room name (room name contains a control character); a target is a room name, or an expression starting with input. or meta.',
    );
    assert.match(
      errorOf(flow(REST, "api", toRoom("x".repeat(129)))),
      /is not a valid room name \(room name is longer than 128 bytes\)/,
    );
    assert.match(
      errorOf(flow(REST, "api", toRoom(""))),
      /flow\.f\.to\.target: "" is not a valid room name \(is empty\)/,
    );
  });
});

describe("Mycel's RabbitMQ envelope on a RabbitMQ flow", () => {
  test("input.body.x as a target is refused at start with what to write", () => {
    assert.equal(
      errorOf(flow(MQ, "rabbit", toRoom("input.body.customer.id"))),
      `hypha.toml: flow.f.to.target: "input.body.customer.id" reads Mycel's RabbitMQ envelope, which hypha does not have: here input is the message body itself, and the routing key, exchange, headers and properties are meta.routing_key, meta.exchange, meta.headers.<name> and meta.properties.<name>; write "input.customer.id"`,
    );
  });

  test("every envelope expression is found: event, filter and transform fields", () => {
    const message = errorOf(
      flow(
        MQ,
        "rabbit",
        'operation = "broadcast"\nevent = "input.properties.type"',
        `filter = "input.routing_key == 'a.b'"\n`,
        `[flow.f.transform]\ntenant = "input.headers.tenant"\nfrom = "input.exchange"\n`,
      ),
    );
    assert.match(
      message,
      /flow\.f\.to\.event: .* write "meta\.properties\.type"/,
    );
    assert.match(
      message,
      /flow\.f\.filter: .* write "meta\.routing_key == 'a\.b'"/,
    );
    assert.match(
      message,
      /flow\.f\.transform\.tenant: .* write "meta\.headers\.tenant"/,
    );
    assert.match(
      message,
      /flow\.f\.transform\.from: .* write "meta\.exchange"/,
    );
  });

  test("the same expressions on a REST flow are the body's own fields", () => {
    const { config } = parseConfig(
      flow(REST, "api", toRoom("input.body.room")),
      "hypha.toml",
      {},
    );
    assert.equal(config.flow.f.to.target, "input.body.room");
  });

  test("fromEnvelope maps each envelope part", () => {
    assert.equal(fromEnvelope("input.body"), "input");
    assert.equal(fromEnvelope("input.body.a.b"), "input.a.b");
    assert.equal(fromEnvelope("input.headers['x-a']"), "meta.headers['x-a']");
    assert.equal(fromEnvelope("input.bodyguard"), "input.bodyguard");
  });
});
