import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { restExample } from "./support/configs.ts";
import { ADMIN, publish, RUNTIME, writeConfig } from "./support/hypha.ts";
import { promtoolCheck, scrape } from "./support/metrics.ts";
import { curlStream, makeCertificate, tlsTable } from "./support/https.ts";
import { spawnChild } from "./support/spawn.ts";

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

describe(`single binary (tests run on ${RUNTIME})`, () => {
  test("bun build --compile makes one file that serves events over HTTPS and /metrics with no runtime installed beside it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hypha-bin-"));
    const binary = join(dir, "hypha");
    const cert = await makeCertificate();
    const config = await writeConfig(
      `${ADMIN}\n${restExample(tlsTable("connector.sse", cert))}`,
    );
    try {
      const build = await run(BUN, [
        "build",
        "--compile",
        "src/bun.ts",
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
    } finally {
      await config.remove();
      await cert.remove();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
