/**
 * Every file in examples/ runs as its comments say: the nginx config in
 * front of hypha, the RabbitMQ publisher script, the browser page.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { startAppBackend } from "./support/app_backend.ts";
import { chromiumPath, launchChromium } from "./support/browser.ts";
import { rawSubscribe, subscribe, until } from "./support/clients.ts";
import { publish, RUNTIME, startHypha } from "./support/hypha.ts";
import { freePort } from "./support/ports.ts";
import { connectBroker, RABBITMQ_URL, uniqueName } from "./support/rabbitmq.ts";
import { spawnChild } from "./support/spawn.ts";
import {
  merge,
  rabbitConfig,
  restExample,
  throwawayTopology,
} from "./support/config_builder.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** Debian's nginx (packages nginx or nginx-light), on PATH or in /usr/sbin. */
function nginxPath(): string | undefined {
  for (const dir of [...(process.env.PATH ?? "").split(":"), "/usr/sbin"]) {
    if (existsSync(join(dir, "nginx"))) return join(dir, "nginx");
  }
  return undefined;
}

/** Resolves once something accepts connections on `port`. */
async function listening(port: number): Promise<void> {
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
  for (let i = 0; i < 200; i++) {
    if (await accepts()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on port ${port}`);
}

describe(`examples/nginx.conf (${RUNTIME})`, () => {
  const nginx = nginxPath();
  test("keeps idle streams past the heartbeat: proxy_read_timeout is above 30s", async () => {
    const conf = await readFile(`${ROOT}examples/nginx.conf`, "utf8");
    assert.match(conf, /^\s*proxy_buffering off;/m);
    assert.match(conf, /^\s*proxy_http_version 1\.1;/m);
    assert.match(conf, /^\s*keepalive \d+;/m);
    const [, n, unit] = /^\s*proxy_read_timeout (\d+)(s|m|h);/m.exec(conf)!;
    const seconds = Number(n) * { s: 1, m: 60, h: 3600 }[unit as "s"];
    assert.ok(seconds > 30, `${seconds} s`);
  });

  test(
    "nginx with it in front of hypha passes events and keepalives through as they come",
    async () => {
      // .ci/run installs it; a missing tool is a failure, never a skip.
      assert.ok(
        nginx !== undefined,
        "nginx is not installed (apt-get install nginx)",
      );
      const hypha = await startHypha(
        restExample({ heartbeat_interval: "300ms" }),
      );
      const dir = await mkdtemp(join(tmpdir(), "hypha-nginx-"));
      const port = await freePort();
      const sse = new URL(hypha.urls.sse);
      const conf = (await readFile(`${ROOT}examples/nginx.conf`, "utf8"))
        .replace("server 127.0.0.1:3002;", `server 127.0.0.1:${sse.port};`)
        .replace("listen 8000;", `listen 127.0.0.1:${port};`)
        .replace("http {", `http {\n  access_log off;`);
      await writeFile(join(dir, "nginx.conf"), conf);
      const server = spawnChild(
        nginx!,
        [
          "-p",
          dir,
          "-c",
          join(dir, "nginx.conf"),
          "-e",
          join(dir, "error.log"),
          "-g",
          `daemon off; pid ${join(dir, "nginx.pid")};`,
        ],
        ROOT,
        {},
      );
      let log = "";
      server.onOutput((text) => log += text);
      try {
        await listening(port);
        const proxied = `http://127.0.0.1:${port}`;
        const sub = await rawSubscribe(proxied, "/events?room=orders");
        await until(() => sub.retries.length === 1, "the stream through nginx");
        await until(() => sub.comments.length >= 2, "keepalives through nginx");
        const api = hypha.urls.api;
        assert.equal(
          (await publish(`${api}notify/orders`, { n: 1 })).status,
          202,
        );
        await sub.waitFor(1);
        assert.deepEqual(sub.events.map((e) => e.data), [
          '{"n":1,"room":"orders"}',
        ]);
        sub.close();
      } finally {
        server.kill("SIGTERM");
        await server.exited;
        await hypha.stop();
        await rm(dir, { recursive: true, force: true });
      }
      assert.doesNotMatch(log, /\[emerg\]/);
    },
  );
});

describe(`examples/publish.ts (${RUNTIME})`, () => {
  test("run as printed, it publishes a message that reaches the room's subscriber", async () => {
    const exchange = uniqueName("example-exchange");
    const queue = uniqueName("example-queue");
    const hypha = await startHypha(
      rabbitConfig(throwawayTopology(uniqueName("example"), exchange, queue)),
    );
    const broker = await connectBroker();
    try {
      const sub = subscribe(`${hypha.urls.sse}?room=orders`);
      await sub.opened;
      // npx deno run -A examples/publish.ts ... / npx bun examples/publish.ts ...
      const command = RUNTIME === "deno"
        ? ["run", "-A", "examples/publish.ts"]
        : ["examples/publish.ts"];
      const child = spawnChild(
        process.execPath,
        [
          ...command,
          "room.event",
          '{"room":"orders","text":"hi"}',
        ],
        ROOT,
        { RABBITMQ_URL, HYPHA_EXCHANGE: exchange },
      );
      let output = "";
      child.onOutput((text) => output += text);
      assert.equal(await child.exited, 0, output);
      assert.match(output, /published to .* with routing key room\.event/);
      const [event] = await sub.waitFor(1);
      assert.deepEqual(JSON.parse(event.data), { room: "orders", text: "hi" });
      sub.close();
    } finally {
      await hypha.stop();
      await broker.cleanup({ queues: [queue], exchanges: [exchange] });
    }
  });

  test("a body that is not a JSON object exits 2 before connecting", async () => {
    const command = RUNTIME === "deno"
      ? ["run", "-A", "examples/publish.ts"]
      : ["examples/publish.ts"];
    const child = spawnChild(
      process.execPath,
      [...command, "room.event", "[1,2]"],
      ROOT,
      { RABBITMQ_URL: "amqp://nobody@127.0.0.1:1" },
    );
    let output = "";
    child.onOutput((text) => output += text);
    assert.equal(await child.exited, 2);
    assert.match(output, /JSON: not a JSON object/);
  });
});

describe(`examples/browser/index.html (${RUNTIME})`, () => {
  test(
    "signed in by the app's cookie, it shows its room's events, and after a hypha restart shows the gap and reloads",
    async () => {
      assert.ok(
        chromiumPath() !== undefined,
        "chromium is not installed (apt-get install chromium)",
      );
      const app = await startAppBackend();
      const sid = crypto.randomUUID();
      app.sessions.set(sid, { user_id: "alice", rooms: ["orders"] });
      const port = await freePort();
      // A fixed SSE port, so the browser comes back to the restarted hypha.
      const config = merge(
        restExample({
          retry: "200ms",
          port,
          cors: { allowed_origins: [app.origin], allow_credentials: true },
          auth: { callback: app.callback },
        }),
        { service: { shutdown_spread: "100ms" } },
      );
      let hypha = await startHypha(config);
      app.pages.set(
        "/live",
        await readFile(`${ROOT}examples/browser/index.html`, "utf8"),
      );
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        await page.goto(`${app.origin}/login?sid=${sid}`);
        const events = encodeURIComponent(hypha.urls.sse);
        await page.goto(`${app.origin}/live?hypha=${events}&rooms=orders`);
        await page.waitForSelector("#state:text('open')");
        await publish(`${hypha.urls.api}notify/orders`, { n: 1 });
        const first = await page.waitForSelector("#events li");
        assert.equal(await first.textContent(), '{"n":1,"room":"orders"}');

        // Ids from before a restart cannot be replayed: a gap, then live.
        await hypha.stop();
        hypha = await startHypha(config);
        await page.waitForSelector(
          "#gap:text('missed events (restart): reloaded')",
        );
        await page.waitForSelector("#state:text('open')");
        await publish(`${hypha.urls.api}notify/orders`, { n: 2 });
        await page.waitForSelector("#events li:text('\"n\":2')");
        assert.deepEqual(await page.locator("#events li").allTextContents(), [
          '{"n":2,"room":"orders"}',
        ]);
      } finally {
        await browser.close();
        await hypha.stop();
        await app.close();
      }
    },
  );
});
