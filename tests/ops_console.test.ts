import assert from "node:assert/strict";
import process from "node:process";
import { describe, test } from "node:test";
import { launchChromium } from "./support/browser.ts";
import { publish, RUNTIME, startHypha } from "./support/hypha.ts";
import { merge, restExample } from "./support/config_builder.ts";

const CONSOLE = { console: true, retry: "300ms" } as const;

describe(`live console (${RUNTIME})`, () => {
  test("the console shows a published event, then reconnecting while the server is down, then the restart gap", async () => {
    let hypha = await startHypha(
      merge(restExample(CONSOLE), { service: { shutdown_spread: "300ms" } }),
    );
    const port = new URL(hypha.urls.sse).port;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setViewportSize({ width: 900, height: 420 });
      await page.goto(new URL("/console", hypha.urls.sse).href);
      await page.fill("#rooms", "orders");
      await page.fill("#user", "u1");
      await page.click("#connect");
      await page.waitForSelector("#state.open");

      const r = await publish(`${hypha.urls.api}notify/orders`, { total: 42 });
      assert.equal(r.body.delivered, 1);
      const row = await page.waitForSelector("tr.event");
      const cells = await row.$$eval(
        "td",
        (tds) => tds.map((t) => t.textContent),
      );
      assert.match(cells[0]!, /^\d\d:\d\d:\d\d\.\d{3}$/);
      assert.match(cells[1]!, /^\d+$/);
      assert.equal(cells[2], "message");
      assert.equal(cells[3], '{"total":42,"room":"orders"}');
      assert.match(
        await page.textContent("#counts") ?? "",
        /^1 events, 0 gaps/,
      );

      assert.equal(await hypha.stop(), 0);
      await page.waitForSelector("#state.reconnecting");

      hypha = await startHypha(
        merge(restExample({ ...CONSOLE, port: Number(port) }), {
          service: { shutdown_spread: "300ms" },
        }),
      );
      const gap = await page.waitForSelector("tr.gap", { timeout: 20_000 });
      const gapCells = await gap.$$eval(
        "td",
        (tds) => tds.map((t) => t.textContent),
      );
      assert.equal(gapCells[2], "gap");
      assert.equal(JSON.parse(gapCells[3]!).reason, "restart");
      await page.waitForSelector("#state.open");
      assert.match(
        await page.textContent("#counts") ?? "",
        /1 gaps, 1 reconnects/,
      );
      if (process.env.HYPHA_SCREENSHOT) {
        await publish(`${hypha.urls.api}notify/orders`, { total: 43 });
        await page.waitForSelector("tr.event >> nth=1");
        await page.screenshot({ path: process.env.HYPHA_SCREENSHOT });
      }
    } finally {
      await browser.close();
      await hypha.stop();
    }
  });

  test("GET /console is served only with console = true, and tells the page how a token may be sent", async () => {
    const off = await startHypha(restExample());
    try {
      const r = await fetch(new URL("/console", off.urls.sse));
      assert.equal(r.status, 404);
      await r.body?.cancel();
    } finally {
      await off.stop();
    }
    const on = await startHypha(restExample({
      ...CONSOLE,
      auth: { jwt_secret: "console-test-secret-0123456789abcdef" },
    }));
    try {
      const r = await fetch(new URL("/console", on.urls.sse));
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("content-type"), "text/html; charset=utf-8");
      assert.match(
        r.headers.get("content-security-policy")!,
        /^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/]+=*'; .*connect-src 'self'/,
      );
      const html = await r.text();
      assert.match(html, /"auth":"cookie","cookie":"hypha_token"/);
      assert.ok(!html.includes("console-test-secret"));
      // The stream itself still demands a token.
      const stream = await fetch(on.urls.sse);
      assert.equal(stream.status, 401);
      await stream.body?.cancel();
    } finally {
      await on.stop();
    }
  });
});
