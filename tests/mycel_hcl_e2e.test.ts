/**
 * Mycel HCL configs run as they are: real processes, real EventSource
 * clients. Each fixture produces the expected events on the wire, and its
 * `hypha translate` output, started with --config, produces the same.
 */

import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { subscribe } from "./support/clients.ts";
import {
  type Hypha,
  publish,
  runHypha,
  startHypha,
  startHyphaAt,
} from "./support/hypha.ts";
import { freePort } from "./support/ports.ts";

const FIXTURES = new URL("./fixtures/mycel/", import.meta.url).pathname;

async function ports(): Promise<Record<string, string>> {
  return {
    SSE_PORT: String(await freePort()),
    API_PORT: String(await freePort()),
  };
}

/** Runs `hypha translate path` and returns the TOML it printed. */
async function translate(path: string): Promise<string> {
  const { code, output } = await runHypha(["translate", path]);
  assert.equal(code, 0, output);
  return output;
}

/**
 * Subscribes (everyone, room r, user u), publishes `posts` in order, and
 * returns the data each subscriber received.
 */
async function deliver(
  hypha: Hypha,
  sse: string,
  api: string,
  posts: [path: string, body: unknown][],
  expected: number[],
): Promise<string[][]> {
  const base = hypha.urls[sse];
  const clients = [
    subscribe(base),
    subscribe(`${base}?room=r`),
    subscribe(`${base}?user_id=u`),
  ];
  try {
    await Promise.all(clients.map((c) => c.opened));
    for (const [path, body] of posts) {
      const { status } = await publish(`${hypha.urls[api]}${path}`, body);
      assert.equal(status, 202);
    }
    return await Promise.all(
      clients.map(async (c, i) =>
        (await c.waitFor(expected[i])).map((e) => `${e.type} ${e.data}`)
      ),
    );
  } finally {
    for (const c of clients) c.close();
  }
}

describe("Mycel HCL end to end", () => {
  test("the SSE + REST service delivers to everyone, rooms and users, and so does its translation", async () => {
    const fixture = FIXTURES + "sse_rest.hcl";
    const posts: [string, unknown][] = [
      ["notify", { n: 1 }],
      ["notify/r", { n: 2 }],
      ["notify/user/u", { n: 3 }],
    ];
    const expected = [
      ['message {"n":1}'],
      ['message {"n":1}', 'message {"n":2,"room":"r"}'],
      ['message {"n":1}', 'message {"n":3,"user_id":"u"}'],
    ];
    const hcl = await startHyphaAt(fixture, await ports());
    try {
      assert.deepEqual(
        await deliver(hcl, "events", "api", posts, [1, 2, 2]),
        expected,
      );
    } finally {
      await hcl.stop();
    }
    const toml = await startHypha(await translate(fixture), await ports());
    try {
      assert.deepEqual(
        await deliver(toml, "events", "api", posts, [1, 2, 2]),
        expected,
      );
    } finally {
      await toml.stop();
    }
  });

  test("a directory of .mycel and .hcl files is merged, and so is its translation", async () => {
    const dir = FIXTURES + "split";
    const posts: [string, unknown][] = [["all", { n: 1 }], ["rooms/r", {
      n: 2,
    }]];
    const expected = [
      ['message {"n":1}'],
      ['message {"n":1}', 'message {"n":2,"room":"r"}'],
      ['message {"n":1}'],
    ];
    for (
      const start of [
        async () => startHyphaAt(dir, await ports()),
        async () => startHypha(await translate(dir), await ports()),
      ]
    ) {
      const hypha = await start();
      try {
        assert.match(hypha.lines.join("\n"), /service=split-demo/);
        assert.deepEqual(
          await deliver(hypha, "events", "api", posts, [1, 2, 1]),
          expected,
        );
      } finally {
        await hypha.stop();
      }
    }
  });
});

describe("Mycel HCL errors", () => {
  async function withFile(
    name: string,
    text: string,
    run: (path: string) => Promise<void>,
  ) {
    const dir = await mkdtemp(join(tmpdir(), "hypha-hcl-"));
    try {
      await writeFile(join(dir, name), text);
      await run(join(dir, name));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  test("an unknown block or attribute exits 2 naming file and line, for --config and translate", async () => {
    await withFile(
      "app.mycel",
      `connector "events" {\n  type = "sse"\n  port = 3002\n  ping = "5s"\n}\n\naspect "log" {\n}\n`,
      async (path) => {
        for (const args of [["--config", path], ["translate", path]]) {
          const { code, output } = await runHypha(args);
          assert.equal(code, 2, output);
          assert.match(
            output,
            new RegExp(
              `${path}:4: connector "events": ping: unknown to hypha; remove it`,
            ),
          );
          assert.match(
            output,
            new RegExp(
              `${path}:7: aspect: hypha does not read Mycel's "aspect" blocks`,
            ),
          );
          assert.doesNotMatch(output, /\n\s+at /);
        }
      },
    );
  });

  test("--help tells about HCL configs and translate", async () => {
    const { code, output } = await runHypha(["--help"]);
    assert.equal(code, 0);
    assert.match(output, /^ {2}translate PATH {2}/m);
    assert.match(output, /\.hcl or \.mycel/);
  });

  test("translate refuses a file that is not HCL", async () => {
    await withFile("hypha.toml", `[service]\n`, async (path) => {
      const { code, output } = await runHypha(["translate", path]);
      assert.equal(code, 2);
      assert.match(output, /translate reads Mycel's HCL/);
    });
  });
});
