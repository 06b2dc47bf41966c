import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { subscribe } from "./support/clients.ts";
import { publish, writeConfig } from "./support/hypha.ts";
import { onceOnDeno } from "./support/once.ts";
import { spawnChild } from "./support/spawn.ts";
import { flow, rest, sse } from "./support/config_builder.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const BUN = join(ROOT, "node_modules/bun/bin/bun.exe");

const CONFIG = {
  connector: { sse: sse(), api: rest() },
  flow: {
    shaped: flow(
      { connector: "api", operation: "POST /n" },
      { connector: "sse", operation: "send_to_room", target: "dashboard" },
      {
        filter: "input.n > 1",
        transform: {
          double: "input.n * 2.0",
          name: "input.name.upperAscii()",
        },
      },
    ),
  },
};

// Bun compiles the binary whichever runner.
onceOnDeno.describe("CEL in the bun-compiled binary", () => {
  test("the single binary filters and transforms with CEL", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hypha-cel-bin-"));
    const binary = join(dir, "hypha");
    const config = await writeConfig(CONFIG);
    try {
      // The same command as `deno task compile:bun`, into a temp dir.
      const build = spawnChild(
        BUN,
        [
          "build",
          "--compile",
          "src/bun.ts",
          "--outfile",
          binary,
        ],
        ROOT,
        {},
      );
      let buildLog = "";
      build.onOutput((t) => buildLog += t);
      assert.equal(await build.exited, 0, buildLog);

      const child = spawnChild(binary, ["--config", config.path], dir, {});
      let log = "";
      child.onOutput((t) => log += t);
      try {
        const deadline = Date.now() + 10_000;
        while (!/INFO\s+ready/.test(log) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        const url = (name: string) =>
          new RegExp(`listening connector=${name} url=(\\S+)`).exec(log)![1];
        const client = subscribe(`${url("sse")}?room=dashboard`);
        await client.opened;
        const api = new URL("/n", url("api")).href;
        assert.deepEqual((await publish(api, { n: 1, name: "a" })).body, {
          delivered: 0,
          filtered: true,
        });
        assert.equal((await publish(api, { n: 21, name: "ada" })).status, 202);
        const [event] = await client.waitFor(1);
        assert.equal(event.data, '{"double":42,"name":"ADA"}');
        client.close();
      } finally {
        child.kill("SIGTERM");
        assert.equal(await child.exited, 0);
      }
    } finally {
      await config.remove();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
