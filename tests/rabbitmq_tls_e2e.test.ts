import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { subscribe } from "./support/clients.ts";
import {
  adminStats,
  adminUrl,
  runHypha,
  RUNTIME,
  startHypha,
} from "./support/hypha.ts";
import {
  cleanupCluster,
  clusterConfig,
  clusterNames,
  publishN,
} from "./support/cluster.ts";
import {
  type Broker,
  connectBroker,
  freePort,
  uniqueName,
  waitForNumbers,
} from "./support/rabbitmq.ts";
import {
  type Certificates,
  makeCertificates,
  startStunnel,
  type Stunnel,
} from "./support/tls.ts";
import { writeConfig } from "./support/hypha.ts";
import {
  flow,
  merge,
  type MqInput,
  type Overrides,
  rabbitConfig,
} from "./support/config_builder.ts";

/** The mq connector's keys for TLS through stunnel on `port`, with `tls`. */
function tlsConnector(
  port: number,
  exchange: string,
  tls: Overrides<MqInput["tls"]>,
): Overrides<MqInput> {
  return {
    host: "localhost",
    port,
    connection_name: uniqueName("tls"),
    tls: { enabled: true, ...tls },
    exchange: { name: exchange, durable: false },
    queue: { name: "" },
  };
}

const FEED = {
  feed: flow(
    { connector: "rabbit", operation: "feed.#" },
    { connector: "sse", operation: "broadcast" },
  ),
};

describe(`TLS to the broker through stunnel (${RUNTIME})`, () => {
  let certs: Certificates;
  let stunnel: Stunnel;
  let broker: Broker;
  const exchange = uniqueName("x");

  before(async () => {
    certs = await makeCertificates();
    stunnel = await startStunnel(certs, await freePort());
    broker = await connectBroker();
    await broker.channel.exchangeDeclare(exchange, "topic", { durable: false });
  });

  after(async () => {
    await broker?.cleanup({ exchanges: [exchange] });
    await stunnel?.stop();
    await certs?.remove();
  });

  test("connects with the client certificate and the private CA, and delivers", async () => {
    const hypha = await startHypha(rabbitConfig(
      tlsConnector(
        stunnel.port,
        exchange,
        { cert: certs.clientCert, key: certs.clientKey, ca_cert: certs.ca },
      ),
      FEED,
    ));
    try {
      const connected = await hypha.waitForLine(/INFO\s+connected/);
      assert.match(
        connected,
        new RegExp(`url=amqps://guest:\\*\\*\\*@localhost:${stunnel.port}`),
      );
      await hypha.waitForLine(/INFO\s+ready/);
      const all = subscribe(hypha.urls.sse);
      await all.opened;
      await broker.publish(exchange, "feed.item", { n: 1 });
      assert.deepEqual(await waitForNumbers(all, [1]), [1]);
      all.close();
    } finally {
      await hypha.stop();
    }
  });

  test("an amqps:// url turns TLS on without tls.enabled", async () => {
    const hypha = await startHypha(rabbitConfig(
      {
        url: `amqps://guest:guest@localhost:${stunnel.port}`,
        connection_name: uniqueName("amqps"),
        tls: {
          cert: certs.clientCert,
          key: certs.clientKey,
          ca_cert: certs.ca,
        },
        exchange: { name: exchange, durable: false },
        queue: { name: "" },
      },
      FEED,
    ));
    try {
      await hypha.waitForLine(/INFO\s+ready/);
      const all = subscribe(hypha.urls.sse);
      await all.opened;
      await broker.publish(exchange, "feed.item", { n: 2 });
      assert.deepEqual(await waitForNumbers(all, [2]), [2]);
      all.close();
    } finally {
      await hypha.stop();
    }
  });

  test("insecure_skip_verify connects although no trusted CA signed the broker's certificate", async () => {
    const hypha = await startHypha(rabbitConfig(
      tlsConnector(
        stunnel.port,
        exchange,
        {
          cert: certs.clientCert,
          key: certs.clientKey,
          insecure_skip_verify: true,
        },
      ),
      FEED,
    ));
    try {
      await hypha.waitForLine(/INFO\s+ready/);
      const all = subscribe(hypha.urls.sse);
      await all.opened;
      await broker.publish(exchange, "feed.item", { n: 3 });
      assert.deepEqual(await waitForNumbers(all, [3]), [3]);
      all.close();
    } finally {
      await hypha.stop();
    }
  });

  test("without a client certificate: refused, with an ERROR that says to set tls.cert and tls.key", async () => {
    const hypha = await startHypha(rabbitConfig(
      tlsConnector(stunnel.port, exchange, { ca_cert: certs.ca }),
      FEED,
    ));
    try {
      const line = await hypha.waitForLine(/ERROR\s+TLS handshake/);
      assert.match(
        line,
        /advice="the broker requires a client certificate: set tls\.cert and tls\.key"/,
      );
      assert.ok(hypha.lines.some((l) => /WARN\s+not ready yet/.test(l)));
      assert.ok(!hypha.lines.some((l) => /INFO\s+(ready|connected)/.test(l)));
      const rabbit = (await adminStats(hypha)).sources.rabbit;
      assert.equal(rabbit.consuming, false);
    } finally {
      await hypha.stop();
    }
  });

  test("with a CA that did not sign the broker's certificate: refused, with an ERROR that says to set tls.ca_cert", async () => {
    const hypha = await startHypha(rabbitConfig(
      tlsConnector(
        stunnel.port,
        exchange,
        {
          cert: certs.clientCert,
          key: certs.clientKey,
          ca_cert: certs.otherCa,
        },
      ),
      FEED,
    ));
    try {
      const line = await hypha.waitForLine(/ERROR\s+TLS handshake/);
      assert.match(
        line,
        /reason="self[- ]signed certificate in certificate chain"/,
      );
      assert.match(line, /set tls\.ca_cert to the CA that signed it/);
      assert.ok(!hypha.lines.some((l) => /INFO\s+(ready|connected)/.test(l)));
    } finally {
      await hypha.stop();
    }
  });

  test("a cluster whose store is on a client-certificate broker attaches over TLS: ready, and a REST event reaches a subscriber with a stream id", async () => {
    const names = clusterNames();
    const config = merge(
      clusterConfig(
        names,
        {},
        `amqps://guest:guest@localhost:${stunnel.port}`,
      ),
      {
        connector: {
          rabbit: {
            tls: {
              cert: certs.clientCert,
              key: certs.clientKey,
              ca_cert: certs.ca,
            },
          },
        },
      },
    );
    const hypha = await startHypha(config);
    try {
      await hypha.waitForLine(/INFO\s+cluster log attached/);
      await hypha.waitForLine(/INFO\s+ready/);
      assert.equal((await fetch(adminUrl(hypha, "/readyz"))).status, 200);
      const all = subscribe(hypha.urls.sse);
      await all.opened;
      const id = await publishN(hypha, 1);
      assert.match(id, /^[0-9a-z]+-\d+$/);
      const [event] = await all.waitFor(1);
      assert.equal(event.lastEventId, id);
      all.close();
    } finally {
      await hypha.stop();
      await cleanupCluster(names);
    }
  });

  test("a TLS file that cannot be read is a config error naming the key and the path", async () => {
    const missing = `${certs.dir}/nope.pem`;
    const config = await writeConfig(rabbitConfig(
      tlsConnector(stunnel.port, exchange, { ca_cert: missing }),
      FEED,
    ));
    try {
      const { code, output } = await runHypha(["--config", config.path]);
      assert.equal(code, 2);
      assert.match(
        output,
        new RegExp(
          `hypha: invalid config: ${config.path}: connector\\.rabbit\\.tls\\.ca_cert: cannot read "${missing}": `,
        ),
      );
    } finally {
      await config.remove();
    }
  });
});
