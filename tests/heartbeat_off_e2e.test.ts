import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Hypha, publish, startHypha } from "./support/hypha.ts";
import { rawRequest, until } from "./support/clients.ts";
import { flow, rest, sse } from "./support/config_builder.ts";

// Two SSE connectors in one process: "quiet" has heartbeats off, "ticking"
// sends one every 100 ms. The ticking subscriber is the clock: once it has
// seen 30 keepalives, the quiet one has been idle for as long, and must have
// received nothing but its opening retry line.
const CONFIG = {
  connector: {
    quiet: sse({ heartbeat_interval: "0s" }),
    ticking: sse({ heartbeat_interval: "100ms" }),
    api: rest(),
  },
  flow: {
    to_quiet: flow(
      { connector: "api", operation: "POST /quiet" },
      { connector: "quiet", operation: "broadcast" },
    ),
  },
};

describe('heartbeat_interval = "0s"', () => {
  let hypha: Hypha;
  before(async () => hypha = await startHypha(CONFIG));
  after(async () => await hypha.stop());

  test("an idle subscriber gets no keepalive; events still arrive", async () => {
    const request = `GET /events HTTP/1.1\r\nHost: x\r\n\r\n`;
    const quiet = await rawRequest(hypha.urls.quiet, request);
    const ticking = await rawRequest(hypha.urls.ticking, request);
    await quiet.waitFor(/retry: \d+\n\n/);
    const keepalives = (text: string) =>
      text.split(": keepalive\n\n").length - 1;
    await until(() => keepalives(ticking.text()) >= 30, "30 keepalives");
    assert.doesNotMatch(quiet.text(), /keepalive/);
    assert.doesNotMatch(quiet.text(), /data:|^:/m);

    const sent = await publish(new URL("/quiet", hypha.urls.api).href, {
      n: 1,
    });
    assert.equal(sent.status, 202);
    await quiet.waitFor(/data: \{"n":1\}\n\n/);
    assert.doesNotMatch(quiet.text(), /keepalive/);
    quiet.close();
    ticking.close();
  });
});
