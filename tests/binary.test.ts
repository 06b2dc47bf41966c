import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import process from "node:process";
import { publish, writeConfig } from "./support/hypha.ts";
import { promtoolCheck, scrape } from "./support/metrics.ts";
import { curlStream, makeCertificate, tlsFiles } from "./support/https.ts";
import { spawnChild } from "./support/spawn.ts";
import { rawSubscribe, until } from "./support/clients.ts";
import { onceOnBun } from "./support/once.ts";
import { ADMIN, merge, restExample } from "./support/config_builder.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const BUN = join(ROOT, "node_modules/bun/bin/bun.exe");

/** Runs a command to its end and returns its exit code and output. */
async function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
) {
  const child = spawnChild(command, args, ROOT, env);
  let output = "";
  child.onOutput((t) => output += t);
  return { code: await child.exited, output };
}

// Bun compiles the binary whichever runner; compile.sh is bash.
onceOnBun.describe("single binary", () => {
  test("bun build --compile makes one file that serves events over HTTPS and /metrics with no runtime installed beside it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hypha-bin-"));
    const binary = join(dir, "hypha");
    const cert = await makeCertificate();
    const config = await writeConfig(
      merge(restExample({ tls: tlsFiles(cert) }), ADMIN),
    );
    try {
      const build = await run(BUN, [
        "build",
        "--compile",
        "src/bun.ts",
        "src/workers/bun_thread.ts",
        "--outfile",
        binary,
      ]);
      assert.equal(build.code, 0, build.output);
      const help = await run(binary, ["--help"]);
      assert.equal(help.code, 0);
      assert.match(help.output, /Usage:/);

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
        // HTTPS from the compiled binary (Bun: HTTP/1.1).
        assert.match(url("sse"), /^https:\/\//);
        const stream = curlStream(`${url("sse")}?room=r`);
        try {
          await stream.waitFor(/retry: \d+/);
          assert.equal(
            (await publish(`${url("api")}notify/r`, { from: "binary" })).body
              .delivered,
            1,
          );
          await stream.waitFor(/data: \{"from":"binary","room":"r"\}\n\n/);
        } finally {
          await stream.stop();
        }
        // prom-client works inside the single binary.
        const metrics = await scrape(
          new URL("/metrics", url("service.admin")).href,
        );
        assert.equal(
          metrics.value("hypha_deliveries_total", { connector: "sse" }),
          1,
        );
        assert.ok(metrics.value("process_resident_memory_bytes")! > 0);
        await promtoolCheck(metrics.text);
      } finally {
        child.kill("SIGTERM");
        assert.equal(await child.exited, 0);
      }
      // The HCL parser is WASM; it must travel inside the binary.
      const translated = await run(binary, [
        "translate",
        join(ROOT, "tests/fixtures/mycel/split"),
      ]);
      assert.equal(translated.code, 0, translated.output);
      assert.match(translated.output, /\[flow\.everyone\.to\]/);
    } finally {
      await config.remove();
      await cert.remove();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("the compiled binary serves subscribers from two delivery threads on one port", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hypha-bin-"));
    const binary = join(dir, "hypha");
    const config = await writeConfig(
      merge(restExample(), ADMIN, { service: { workers: 2 } }),
    );
    try {
      // As npm run compile:bun builds it: the thread's entry travels inside.
      const build = await run(BUN, [
        "build",
        "--compile",
        "src/bun.ts",
        "src/workers/bun_thread.ts",
        "--outfile",
        binary,
      ]);
      assert.equal(build.code, 0, build.output);
      const child = spawnChild(binary, ["--config", config.path], dir, {});
      let log = "";
      child.onOutput((t) => log += t);
      try {
        await until(() => /INFO\s+ready/.test(log), "the binary to be ready");
        const url = (name: string) =>
          new RegExp(`listening connector=${name} url=(\\S+)`).exec(log)![1];
        const clients = await Promise.all(
          Array.from({ length: 40 }, () => rawSubscribe(url("sse"), "/events")),
        );
        await until(
          () => clients.every((c) => c.retries.length > 0),
          "the streams to open",
        );
        await publish(`${url("api")}notify`, { from: "binary" });
        await Promise.all(clients.map((c) => c.waitFor(1)));
        for (const c of clients) {
          assert.deepEqual(JSON.parse(c.events[0].data), { from: "binary" });
          c.close();
        }
        const stats = await (await fetch(
          new URL("/stats", url("service.admin")),
        )).json();
        assert.equal(stats.hubs.sse.threads.length, 2);
      } finally {
        child.kill("SIGTERM");
        assert.equal(await child.exited, 0);
      }
    } finally {
      await config.remove();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("npm run compile that cannot get Deno's runtime leaves the existing binary and names the offline path", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hypha-compile-"));
    const out = join(dir, "hypha");
    // Stands for the binary npm run compile:bun built.
    const before = "#!/bin/sh\necho built by compile:bun\n";
    await writeFile(out, before);
    await chmod(out, 0o755);
    try {
      // DENORT_BIN fails the way no network does, online or not.
      const { code, output } = await run("npm", ["run", "compile", "--", out], {
        DENORT_BIN: join(dir, "no-denort"),
        PATH: `${ROOT}node_modules/.bin:${process.env.PATH}`,
      });
      assert.equal(code, 1, output);
      assert.equal(await readFile(out, "utf8"), before);
      assert.match(output, /was left as it was/);
      assert.match(output, /needs\s+network/);
      assert.match(output, /npm run compile:bun/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
