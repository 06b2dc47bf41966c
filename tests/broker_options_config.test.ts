import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseRabbit, rabbitErrorOf } from "./support/config_errors.ts";
import { tlsAdvice } from "../src/rabbitmq/tls.ts";

const rabbit = parseRabbit;
const errorOf = rabbitErrorOf;

describe("broker TLS options", () => {
  test("tls.enabled dials amqps, on 5671 unless a port is given", () => {
    const { settings } = rabbit(
      `host = "mq"\n[connector.rabbit.tls]\nenabled = true\n`,
    );
    assert.equal(settings.tls, true);
    assert.equal(settings.url, "amqps://guest:guest@mq:5671/%2F");
    assert.equal(
      rabbit(`port = 5673\n[connector.rabbit.tls]\nenabled = true\n`).settings
        .url,
      "amqps://guest:guest@localhost:5673/%2F",
    );
    assert.equal(
      rabbit("").settings.url,
      "amqp://guest:guest@localhost:5672/%2F",
    );
  });

  test("an amqps:// url is TLS; tls.enabled upgrades an amqp:// url", () => {
    assert.equal(rabbit(`url = "amqps://u:p@mq/v"\n`).settings.tls, true);
    const upgraded = rabbit(
      `url = "amqp://u:p@mq:5671/v"\n[connector.rabbit.tls]\nenabled = true\n`,
    ).settings;
    assert.equal(upgraded.url, "amqps://u:p@mq:5671/v");
    assert.equal(upgraded.safeUrl, "amqps://u:***@mq:5671/v");
  });

  test("insecure_skip_verify sets the client's insecure switch", () => {
    const { settings } = rabbit(
      `url = "amqps://u:p@mq/v"\n[connector.rabbit.tls]\nenabled = true\ninsecure_skip_verify = true\n`,
    );
    assert.equal(settings.url, "amqps://u:p@mq/v?insecure=");
  });

  test("cert without key, and TLS options with TLS off, are refused", () => {
    assert.equal(
      errorOf(`[connector.rabbit.tls]\nenabled = true\ncert = "c.pem"\n`),
      "hypha.toml: connector.rabbit.tls: a client certificate needs both cert and key (PEM files)",
    );
    assert.equal(
      errorOf(`[connector.rabbit.tls]\nca_cert = "ca.pem"\n`),
      "hypha.toml: connector.rabbit.tls.enabled: TLS options are set but TLS is off; set enabled = true (or use an amqps:// url)",
    );
  });

  test("tlsAdvice reads both runtimes' handshake errors", () => {
    for (
      const reason of [
        "received fatal alert: CertificateRequired",
        "error:1000045c:SSL routines:OPENSSL_internal:TLSV1_ALERT_CERTIFICATE_REQUIRED",
      ]
    ) {
      assert.match(tlsAdvice(reason)!, /set tls\.cert and tls\.key/);
    }
    for (
      const reason of [
        "self-signed certificate in certificate chain",
        "self signed certificate in certificate chain",
        "unable to get local issuer certificate",
      ]
    ) assert.match(tlsAdvice(reason)!, /set tls\.ca_cert/);
    assert.equal(tlsAdvice("connect ECONNREFUSED 127.0.0.1:5671"), undefined);
  });
});

describe("queue and exchange arguments, create_if_missing", () => {
  test("args are declared with the queue and exchange; dlq adds its argument", () => {
    const { settings } = rabbit(`
[connector.rabbit.queue]
name = "orders"
args = { "x-queue-type" = "quorum", "x-message-ttl" = 60000 }
[connector.rabbit.exchange]
name = "events"
args = { "alternate-exchange" = "unrouted" }
binding_args = { "x-match" = "any" }
[connector.rabbit.consumer.dlq]
enabled = true
`);
    assert.deepEqual(settings.queue.arguments, {
      "x-queue-type": "quorum",
      "x-message-ttl": 60000,
      "x-dead-letter-exchange": "orders.dlx",
    });
    assert.equal(settings.queue.passive, false);
    assert.deepEqual(settings.exchange?.arguments, {
      "alternate-exchange": "unrouted",
    });
    assert.deepEqual(settings.exchange?.bindingArguments, { "x-match": "any" });
  });

  test("create_if_missing = false only checks (passive declare)", () => {
    const { settings } = rabbit(`
[connector.rabbit.queue]
name = "orders"
create_if_missing = false
[connector.rabbit.exchange]
name = "events"
create_if_missing = false
`);
    assert.equal(settings.queue.passive, true);
    assert.equal(settings.exchange?.passive, true);
  });

  test("create_if_missing = false needs a queue name", () => {
    assert.equal(
      errorOf(`[connector.rabbit.queue]\ncreate_if_missing = false\n`),
      "hypha.toml: connector.rabbit.queue.create_if_missing: false needs a queue name: a server-named queue never exists beforehand",
    );
  });

  test("args that a passive declare ignores are warned about", () => {
    const { warnings } = rabbit(`
[connector.rabbit.queue]
name = "orders"
create_if_missing = false
args = { "x-queue-type" = "quorum" }
[connector.rabbit.consumer.dlq]
enabled = true
`);
    assert.ok(
      warnings.some((w) =>
        /queue\.args: not applied with create_if_missing = false/.test(w)
      ),
      warnings.join("\n"),
    );
    assert.ok(
      warnings.some((w) => /must already have x-dead-letter-exchange/.test(w)),
    );
  });

  test("x-dead-letter-exchange in args and consumer.dlq together are refused", () => {
    assert.equal(
      errorOf(`
[connector.rabbit.queue]
name = "orders"
args = { "x-dead-letter-exchange" = "mine" }
[connector.rabbit.consumer.dlq]
enabled = true
`),
      "hypha.toml: connector.rabbit.queue.args: x-dead-letter-exchange is set by consumer.dlq; give one of them",
    );
  });

  test("an argument value must be a string, number or bool", () => {
    assert.match(
      errorOf(`[connector.rabbit.queue]\nname = "q"\nargs = { "x-x" = [1] }\n`),
      /connector\.rabbit\.queue\.args\.x-x: /,
    );
  });
});
