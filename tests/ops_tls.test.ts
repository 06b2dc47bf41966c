import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { launchChromium } from "./support/browser.ts";
import {
  type Hypha,
  publish,
  runHypha,
  RUNTIME,
  startHypha,
  writeConfig,
} from "./support/hypha.ts";
import {
  curlGet,
  curlStream,
  makeCertificate,
  type TestCertificate,
  tlsFiles,
} from "./support/https.ts";
import { merge, restExample } from "./support/config_builder.ts";

describe(`TLS (${RUNTIME})`, () => {
  let cert: TestCertificate;
  let hypha: Hypha;

  before(async () => {
    cert = await makeCertificate();
    hypha = await startHypha(
      merge(restExample({ tls: tlsFiles(cert) }), {
        service: { admin: { port: 0, tls: tlsFiles(cert) } },
      }),
    );
  });

  after(async () => {
    await hypha?.stop();
    await cert?.remove();
  });

  test("the startup log gives https:// URLs for the TLS listeners", () => {
    assert.match(hypha.urls.sse, /^https:\/\/127\.0\.0\.1:\d+\/events$/);
    assert.match(hypha.urls["service.admin"], /^https:\/\/127\.0\.0\.1:\d+\//);
    assert.match(hypha.urls.api, /^http:\/\//);
  });

  test("HTTPS serves events on the SSE path, over HTTP/2 on Deno and HTTP/1.1 on Bun", async () => {
    const stream = curlStream(`${hypha.urls.sse}?room=tls`);
    try {
      await stream.waitFor(/retry: \d+/);
      const head = stream.output();
      assert.match(
        head,
        RUNTIME === "deno" ? /^HTTP\/2 200 \r?\n/ : /^HTTP\/1\.1 200 OK\r?\n/,
      );
      assert.match(head, /content-type: text\/event-stream/i);
      const r = await publish(`${hypha.urls.api}notify/tls`, { over: "tls" });
      assert.equal(r.body.delivered, 1);
      await stream.waitFor(/data: \{"over":"tls","room":"tls"\}\n\n/);
    } finally {
      await stream.stop();
    }
  });

  test("the admin listener serves /metrics over HTTPS", async () => {
    const out = await curlGet(
      new URL("/metrics", hypha.urls["service.admin"]).href,
    );
    assert.match(out, /^HTTP\/(2|1\.1) 200/);
    assert.match(out, /^hypha_connections\{connector="sse"\} \d+$/m);
  });

  test(
    "12 EventSources in one Chromium page to one HTTPS origin: all receive a published event over Deno's HTTP/2; over Bun's HTTP/1.1 only 6 connect",
    async () => {
      // Chromium holds at most 6 HTTP/1.1 connections per origin.
      const expected = RUNTIME === "deno" ? 12 : 6;
      const browser = await launchChromium();
      try {
        const context = await browser.newContext({ ignoreHTTPSErrors: true });
        const page = await context.newPage();
        const origin = new URL(hypha.urls.sse).origin;
        await page.goto(`${origin}/healthz`);
        await page.evaluate((n) => {
          const w = globalThis as unknown as {
            opened: number;
            received: string[];
          };
          w.opened = 0;
          w.received = [];
          for (let i = 0; i < n; i++) {
            const source = new EventSource(`/events?room=many`);
            source.onopen = () => w.opened++;
            source.onmessage = (e) => w.received.push(`${i}:${e.data}`);
          }
        }, 12);
        await page.waitForFunction(
          (n) => (globalThis as unknown as { opened: number }).opened === n,
          expected,
          { timeout: 20_000 },
        );
        const r = await publish(`${hypha.urls.api}notify/many`, { n: 1 });
        assert.equal(r.body.delivered, expected);
        await page.waitForFunction(
          (n) =>
            (globalThis as unknown as { received: string[] }).received
              .length === n,
          expected,
          { timeout: 20_000 },
        );
        const received = await page.evaluate(() =>
          (globalThis as unknown as { received: string[] }).received.sort()
        );
        assert.equal(
          new Set(received.map((r) => r.split(":")[0])).size,
          expected,
        );
        const opened = await page.evaluate(() =>
          (globalThis as unknown as { opened: number }).opened
        );
        assert.equal(opened, expected);
        for (const line of received) {
          assert.match(line, /^\d+:\{"n":1,"room":"many"\}$/);
        }
      } finally {
        await browser.close();
      }
    },
  );

  test("a missing certificate file and a key that does not match are config errors naming the path (exit 2)", async () => {
    const missing = await writeConfig(
      restExample({
        tls: { cert_file: `${cert.dir}/nope.pem`, key_file: cert.key },
      }),
    );
    const mismatch = await writeConfig(
      restExample({
        tls: { cert_file: cert.cert, key_file: cert.otherKey },
      }),
    );
    try {
      const a = await runHypha(["--config", missing.path]);
      assert.equal(a.code, 2, a.output);
      assert.match(
        a.output,
        new RegExp(
          `hypha: invalid config: ${missing.path}: connector\\.sse\\.tls\\.cert_file: cannot read "${cert.dir}/nope\\.pem"`,
        ),
      );
      const b = await runHypha(["--config", mismatch.path]);
      assert.equal(b.code, 2, b.output);
      assert.match(
        b.output,
        new RegExp(
          `connector\\.sse\\.tls\\.key_file: "${cert.otherKey}" is not the key of "${cert.cert}"`,
        ),
      );
    } finally {
      await missing.remove();
      await mismatch.remove();
    }
  });
});
