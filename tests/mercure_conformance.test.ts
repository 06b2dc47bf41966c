/**
 * Mercure in a browser (headless Chromium), against hypha on this runtime:
 * the reference hub's conformance cases, the authorization cookie,
 * reconciliation with lastEventID / Last-Event-ID, publisher selectors, an
 * update sent as Symfony's Mercure component sends it, and what is not
 * served yet.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { launchChromium } from "./support/browser.ts";
import { type Hypha, RUNTIME, startHypha } from "./support/hypha.ts";
import {
  conformanceCases,
  mercureConfig,
  publisherToken,
  publishUpdate,
  readEvents,
  runCase,
  subscriberToken,
} from "./support/mercure.ts";

describe(`Mercure conformance in Chromium (${RUNTIME})`, () => {
  let hub: Hypha;
  let browser: Browser;
  let url: string;
  before(async () => {
    hub = await startHypha(mercureConfig());
    url = hub.urls.hub;
    browser = await launchChromium();
  });
  after(async () => {
    await browser.close();
    await hub.stop();
  });

  test("the reference hub's conformance cases: matching updates arrive with their id, the others never do", async () => {
    const page = await browser.newPage();
    await page.goto(new URL("/healthz", url).href);
    const token = await publisherToken();
    const cases = conformanceCases();
    // One at a time: Chromium opens at most 6 connections per host.
    for (const c of cases) {
      const r = await runCase(page, c, url, url, token);
      assert.equal(r.received, c.mustBeReceived, c.name);
      assert.equal(r.status, 200, c.name);
      assert.match(r.contentType ?? "", /^text\/plain(?:$|;.*)/, c.name);
      assert.equal(r.body, "the update's id", c.name);
    }
  });

  test("a page holding the mercureAuthorization cookie receives the private updates its selectors allow; a page without it does not", async () => {
    const topic = `https://example.com/books/${crypto.randomUUID()}`;
    const allowed = await subscriberToken(["https://example.com/books/{id}"]);
    const context = await browser.newContext();
    await context.addCookies([{
      name: "mercureAuthorization",
      value: allowed,
      url: new URL("/", url).href,
      httpOnly: true,
    }]);
    const signedIn = await context.newPage();
    const anonymous = await (await browser.newContext()).newPage();
    for (const page of [signedIn, anonymous]) {
      await page.goto(new URL("/healthz", url).href);
    }
    const token = await publisherToken();
    const [withCookie, without] = await Promise.all(
      [signedIn, anonymous].map((page) =>
        runCase(
          page,
          {
            name: "private with cookie",
            updateTopics: [topic],
            topicSelectors: ["https://example.com/books/{id}"],
            private: true,
            mustBeReceived: true,
          },
          url,
          url,
          token,
        )
      ),
    );
    assert.equal(withCookie.received, true);
    assert.equal(without.received, false);
    await context.close();
  });

  test("lastEventID in the query replays what came after that id, earliest replays everything held, and the Last-Event-ID header wins and is answered", async () => {
    const topic = `https://example.com/log/${crypto.randomUUID()}`;
    const token = await publisherToken();
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const sent = await publishUpdate(url, {
        topics: [topic],
        data: `update ${n}`,
        id: `urn:test:${topic}:${n}`,
      }, token);
      assert.equal(sent.status, 200);
      ids.push(sent.body);
    }
    const page = await browser.newPage();
    await page.goto(new URL("/healthz", url).href);
    const replay = (lastEventID: string) =>
      page.evaluate(async ({ url, topic, lastEventID }) => {
        const u = new URL(url);
        u.searchParams.set("topic", topic);
        u.searchParams.set("lastEventID", lastEventID);
        const es = new EventSource(u);
        const seen: string[] = [];
        await new Promise<void>((resolve) => {
          es.onmessage = (e) => {
            seen.push(`${e.lastEventId} ${e.data}`);
            if (e.data === "update 3") resolve();
          };
        });
        es.close();
        return seen;
      }, { url, topic, lastEventID });
    assert.deepEqual(await replay(ids[0]), [
      `${ids[1]} update 2`,
      `${ids[2]} update 3`,
    ]);
    assert.deepEqual(await replay("earliest"), [
      `${ids[0]} update 1`,
      `${ids[1]} update 2`,
      `${ids[2]} update 3`,
    ]);

    const query = `?topic=${encodeURIComponent(topic)}&lastEventID=earliest`;
    const resumed = await fetch(url + query, {
      headers: { "last-event-id": ids[1] },
    });
    assert.equal(resumed.headers.get("last-event-id"), ids[1]);
    const text = await readEvents(resumed, 1);
    assert.equal(
      text,
      `retry: 200\n\nid: ${ids[2]}\nevent: message\ndata: update 3\n\n`,
    );
    const unknown = await fetch(url + `?topic=x&lastEventID=urn:nothing`);
    assert.equal(unknown.headers.get("last-event-id"), ids[2]);
    await unknown.body?.cancel();
  });

  test("a publisher is refused with 403 unless its mercure.publish selectors match every topic, and with 401 without a valid token", async () => {
    const narrow = await publisherToken(["https://example.com/allowed/{x}"]);
    const allowed = "https://example.com/allowed/1";
    const other = "https://example.com/other/1";
    assert.equal(
      (await publishUpdate(url, { topics: [allowed] }, narrow)).status,
      200,
    );
    const refused = await publishUpdate(
      url,
      { topics: [allowed, other] },
      narrow,
    );
    assert.equal(refused.status, 403);
    assert.match(
      refused.body,
      /does not allow topic "https:\/\/example.com\/other\/1"/,
    );
    // Signed with the subscribers' key: no publisher may use it.
    const subscriberKey = await subscriberToken(["*"]);
    assert.equal(
      (await publishUpdate(url, { topics: [allowed] }, subscriberKey)).status,
      401,
    );
    const none = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `topic=${allowed}`,
    });
    assert.equal(none.status, 401);
    await none.body?.cancel();
    const noTopic = await publishUpdate(url, { topics: [] }, narrow);
    assert.deepEqual([noTopic.status, noTopic.body], [400, "missing topic\n"]);
  });

  test("an update published as Symfony's Mercure component sends it reaches EventSource with its id, type and retry", async () => {
    const topic = `https://example.com/orders/${crypto.randomUUID()}`;
    const page = await browser.newPage();
    await page.goto(new URL("/healthz", url).href);
    const got = page.evaluate(async ({ url, topic }) => {
      const u = new URL(url);
      u.searchParams.set("topic", topic);
      const es = new EventSource(u);
      await new Promise((resolve) => es.onopen = resolve);
      (globalThis as { opened?: boolean }).opened = true;
      const e = await new Promise<MessageEvent>((resolve) =>
        es.addEventListener("order.shipped", resolve)
      );
      es.close();
      return { id: e.lastEventId, data: e.data, type: e.type };
    }, { url, topic });
    await page.waitForFunction(() =>
      (globalThis as { opened?: boolean }).opened === true
    );
    const sent = await publishUpdate(url, {
      topics: [topic, "https://example.com/orders"],
      data: '{"status":"shipped"}',
      type: "order.shipped",
      retry: 1500,
    }, await publisherToken());
    assert.equal(sent.status, 200);
    assert.match(sent.body, /^urn:uuid:[0-9a-f-]{36}$/);
    assert.deepEqual(await got, {
      id: sent.body,
      data: '{"status":"shipped"}',
      type: "order.shipped",
    });
  });

  test("the subscriptions API is not served yet: 501 with the reason", async () => {
    const response = await fetch(
      new URL("/.well-known/mercure/subscriptions", url),
    );
    assert.equal(response.status, 501);
    assert.match(await response.text(), /subscriptions API is not supported/);
  });
});
