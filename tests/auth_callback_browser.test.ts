/**
 * The browser's view of the auth callback (headless Chromium): a page on
 * the app's origin, signed in with the app's session cookie (HttpOnly, set
 * by the app), opens an EventSource with withCredentials to hypha on
 * another origin (another port of the same host: cookies ignore ports, as
 * they would a shared parent domain) and receives its room's events.
 * Without the cookie it is refused and receives nothing.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startAppBackend } from "./support/app_backend.ts";
import { launchChromium } from "./support/browser.ts";
import { publish, RUNTIME, startHypha } from "./support/hypha.ts";
import { restExample } from "./support/config_builder.ts";

/** The app's page: subscribes to room orders and shows what it gets. */
const page = (events: string) =>
  `<!doctype html>
<p id="state">connecting</p><ul id="events"></ul>
<script>
  const source = new EventSource(${
    JSON.stringify(`${events}?rooms=orders`)
  }, { withCredentials: true });
  const state = document.getElementById("state");
  source.onopen = () => { state.textContent = "open"; };
  source.onerror = () => {
    state.textContent = source.readyState === EventSource.CLOSED ? "closed" : "retrying";
  };
  source.onmessage = (event) => {
    const li = document.createElement("li");
    li.textContent = event.data;
    document.getElementById("events").append(li);
  };
</script>`;

describe(`auth callback in a browser (${RUNTIME})`, () => {
  test("a page signed in to the app receives its room's events with withCredentials; without the cookie it does not", async () => {
    const app = await startAppBackend();
    const sid = crypto.randomUUID();
    app.sessions.set(sid, { user_id: "alice", rooms: ["orders"] });
    const hypha = await startHypha(restExample({
      cors: { allowed_origins: [app.origin], allow_credentials: true },
      auth: { callback: app.callback },
    }));
    app.pages.set("/live", page(hypha.urls.sse));
    const browser = await launchChromium();
    try {
      const signedIn = await browser.newPage();
      await signedIn.goto(`${app.origin}/login?sid=${sid}`);
      await signedIn.goto(`${app.origin}/live`);
      await signedIn.waitForSelector("#state:text('open')");

      const anonymous = await (await browser.newContext()).newPage();
      await anonymous.goto(`${app.origin}/live`);
      await anonymous.waitForSelector("#state:text('closed')");

      const api = hypha.urls.api;
      assert.equal(
        (await publish(`${api}notify/orders`, { n: 1 })).status,
        202,
      );
      const item = await signedIn.waitForSelector("#events li");
      assert.equal(await item.textContent(), '{"n":1,"room":"orders"}');
      assert.equal(await anonymous.locator("#events li").count(), 0);
      // The app saw the browser's own cookie and origin.
      const call = app.calls.find((c) => c.headers.cookie === `sid=${sid}`);
      assert.equal(call?.origin, app.origin);
    } finally {
      await browser.close();
      await hypha.stop();
      await app.close();
    }
  });
});
