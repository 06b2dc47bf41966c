import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { describe, test } from "node:test";
import {
  type RawConnection,
  rawRequest,
  rawSubscribe,
  sleep,
  until,
} from "./support/clients.ts";
import {
  adminUrl,
  type Hypha,
  publish,
  RUNTIME,
  startHypha,
} from "./support/hypha.ts";
import { ADMIN, merge, restExample } from "./support/config_builder.ts";

/** Room for hypha's own descriptors (Deno 2.9: ~27, Bun 1.4: ~8) and a few. */
const FILE_LIMIT = 64;
/** More connections than FILE_LIMIT leaves room for. */
const FLOOD = 150;

/** SSE guarded, REST and admin not; none closes an idle socket meanwhile. */
const CONFIG = merge(
  restExample(
    { request_timeout: "60s", connection_guard: true },
    { request_timeout: "60s" },
  ),
  { service: { admin: { port: 0, request_timeout: "60s" } } },
);

/** Opens `count` sockets to `url`'s port that send nothing. */
function openSilent(url: string, count: number): Socket[] {
  const { hostname, port } = new URL(url);
  return Array.from(
    { length: count },
    () => connect({ host: hostname, port: Number(port) }).on("error", () => {}),
  );
}

/** The next response on a kept-alive connection: status line and body. */
async function ask(probe: RawConnection, path: string): Promise<string> {
  const from = probe.text().length;
  probe.socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\n\r\n`);
  let response = "";
  await until(() => {
    response = probe.text().slice(from);
    const end = response.indexOf("\r\n\r\n");
    const length = /content-length: *(\d+)/i.exec(response)?.[1];
    return end >= 0 && length !== undefined &&
      response.length >= end + 4 + Number(length);
  }, `a response to GET ${path}`);
  const [status] = response.split("\r\n");
  return `${status}\n${response.slice(response.indexOf("\r\n\r\n") + 4)}`;
}

/** Open descriptors of the process (Linux). */
const openFiles = (hypha: Hypha) =>
  readdirSync(`/proc/${hypha.process.pid}/fd`).length;

describe(`out of file descriptors (${RUNTIME})`, () => {
  test("every listener answers again once descriptors are free, /readyz said why it was not ready, and the process lives", async () => {
    const hypha = await startHypha(CONFIG, {}, RUNTIME, FILE_LIMIT);
    let exited = false;
    hypha.exited.then(() => exited = true);
    const { sse, api } = hypha.urls;
    // Opened before the flood: no new connection can be accepted during it.
    const probe = await rawRequest(adminUrl(hypha, "/"), "");
    let flood: Socket[] = [];
    try {
      assert.equal(await ask(probe, "/readyz"), "HTTP/1.1 200 OK\nready\n");
      flood = openSilent(sse, FLOOD);
      await until(
        () => openFiles(hypha) >= FILE_LIMIT - 1,
        "hypha out of descriptors",
      );
      // A publisher arrives meanwhile: it waits in the listen backlog.
      const late = publish(`${api}notify`, { n: 1 });
      if (RUNTIME === "deno") {
        const address = new URL(api).host.replace(/\./g, "\\.");
        await hypha.waitForLine(
          new RegExp(
            `ERROR\\s+cannot accept connections; retrying connector=api address=${address} reason="Too many open files`,
          ),
        );
        const state = await ask(probe, "/readyz");
        assert.match(state, /^HTTP\/1.1 503 /);
        assert.match(
          state,
          /\nsse: cannot accept connections \(Too many open files/,
        );
        assert.match(
          state,
          /\napi: cannot accept connections \(Too many open files/,
        );
      } else {
        // Bun.serve retries inside uWebSockets and tells nobody (Bun 1.4.5).
        assert.equal(await ask(probe, "/readyz"), "HTTP/1.1 200 OK\nready\n");
      }
      for (const socket of flood) socket.destroy();

      assert.equal((await late).status, 202);
      const subscriber = await rawSubscribe(sse, "/events");
      await until(() => subscriber.head() !== "", "the stream's headers");
      assert.equal((await publish(`${api}notify`, { n: 2 })).status, 202);
      await subscriber.waitFor(1);
      assert.deepEqual(subscriber.events.map((e) => e.data), ['{"n":2}']);
      subscriber.close();
      const readyz = await fetch(adminUrl(hypha, "/readyz"));
      assert.deepEqual([readyz.status, await readyz.text()], [200, "ready\n"]);
      assert.equal(await ask(probe, "/readyz"), "HTTP/1.1 200 OK\nready\n");
      if (RUNTIME === "deno") {
        await hypha.waitForLine(
          /INFO\s+accepting connections again connector=sse/,
        );
      }
      assert.equal(exited, false, "hypha is still running");
    } finally {
      for (const socket of flood) socket.destroy();
      probe.close();
      await hypha.stop();
    }
  });

  test("an unguarded SSE listener (a proxy in front) accepts again after descriptors ran out, and a subscriber from before keeps its stream", async () => {
    const hypha = await startHypha(
      merge(
        restExample({ connection_guard: false, request_timeout: "60s" }),
        ADMIN,
      ),
      {},
      RUNTIME,
      FILE_LIMIT,
    );
    let flood: Socket[] = [];
    try {
      const { sse, api } = hypha.urls;
      const before = await rawSubscribe(sse, "/events");
      await until(() => before.head() !== "", "the first stream's headers");
      flood = openSilent(sse, FLOOD);
      await until(
        () => openFiles(hypha) >= FILE_LIMIT - 1,
        "hypha out of descriptors",
      );
      if (RUNTIME === "deno") {
        await hypha.waitForLine(
          /ERROR\s+cannot accept connections; retrying connector=sse/,
        );
      }
      for (const socket of flood) socket.destroy();
      // Deno.serve's port is bound again within a second: until then a
      // client is refused and retries, as EventSource does.
      let after: Awaited<ReturnType<typeof rawSubscribe>> | undefined;
      for (let tries = 0; after === undefined; tries++) {
        try {
          after = await rawSubscribe(sse, "/events");
        } catch (error) {
          if (tries > 50) throw error;
          await sleep(100);
        }
      }
      await until(() => after!.head() !== "", "a new stream's headers");
      assert.equal((await publish(`${api}notify`, { n: 1 })).status, 202);
      await after.waitFor(1);
      await before.waitFor(1);
      assert.deepEqual(before.events.map((e) => e.data), ['{"n":1}']);
      assert.deepEqual(after.events.map((e) => e.data), ['{"n":1}']);
      before.close();
      after.close();
    } finally {
      for (const socket of flood) socket.destroy();
      await hypha.stop();
    }
  });

  test("a flood of half-open connections, closed while the guard closes them, leaves hypha serving", async () => {
    const hypha = await startHypha(
      merge(
        restExample({ request_timeout: "100ms", connection_guard: true }),
        ADMIN,
      ),
    );
    let exited = false;
    hypha.exited.then(() => exited = true);
    try {
      for (let round = 0; round < 6; round++) {
        const sockets = openSilent(hypha.urls.sse, 400);
        // Around the 100 ms deadline: some go first, some are cut first.
        await Promise.all(sockets.map(async (socket) => {
          await sleep(50 + Math.random() * 100);
          socket.destroy();
        }));
      }
      const subscriber = await rawSubscribe(hypha.urls.sse, "/events");
      await until(() => subscriber.head() !== "", "the stream's headers");
      await publish(`${hypha.urls.api}notify`, { n: 1 });
      await subscriber.waitFor(1);
      subscriber.close();
      const readyz = await fetch(adminUrl(hypha, "/readyz"));
      assert.equal(readyz.status, 200);
      await readyz.body?.cancel();
      assert.equal(exited, false, "hypha is still running");
      assert.doesNotMatch(hypha.lines.join("\n"), /BadResource|Uncaught/);
    } finally {
      await hypha.stop();
    }
  });
});
