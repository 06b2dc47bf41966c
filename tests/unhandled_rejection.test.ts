import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { main } from "../src/main.ts";
import process from "node:process";
import { rawSubscribe, until } from "./support/clients.ts";
import { publish, RUNTIME, startHypha } from "./support/hypha.ts";
import { restExample, sse, toml } from "./support/config_builder.ts";

const CONFIG = toml({ connector: { sse: sse({ heartbeat_interval: "0s" }) } });

describe("a rejection nobody handled, through main with a fake platform", () => {
  test("is logged as an ERROR and the hub keeps running", async () => {
    const lines: string[] = [];
    let report: ((reason: unknown) => void) | undefined;
    let signal: ((name: string) => void) | undefined;
    const exits: number[] = [];
    main({
      args: ["--config", "hypha.toml"],
      env: {},
      readTextFile: () => Promise.resolve(CONFIG),
      serve: () => Promise.resolve({ port: 1, stop: () => Promise.resolve() }),
      onSignal: (handler) => signal = handler,
      onUnhandledRejection: (handler) => report = handler,
      onUncaughtError: () => {},
      print: () => {},
      printError: (line) => lines.push(line),
      // Recorded, not ended: this process is the test runner.
      exit: (code) => {
        exits.push(code);
        return undefined as never;
      },
    }).catch(() => {});
    await until(() => lines.some((l) => / ready/.test(l)), "ready");
    assert.ok(report, "main asked the runtime for unhandled rejections");
    report(new Error("amqp-client went away"));
    assert.match(
      lines.at(-1)!,
      /ERROR +unhandled rejection reason="?amqp-client went away/,
    );
    assert.deepEqual(exits, [], "still running");
    signal!("SIGTERM");
    await until(() => exits.length > 0, "stopped");
    assert.deepEqual(exits, [0]);
  });
});

describe(`the real entrypoint's wiring (${RUNTIME})`, () => {
  test("a rejection nobody handled and an error nobody caught are logged as ERRORs; hypha keeps serving and stops cleanly", async () => {
    const hypha = await startHypha(
      restExample(),
      {},
      RUNTIME,
      undefined,
      "tests/fixtures/entrypoint/faults.ts",
    );
    const subscriber = await rawSubscribe(hypha.urls.sse, "/events");
    await until(() => subscriber.retries.length === 1, "the stream to open");
    process.kill(hypha.process.pid, "SIGUSR2");
    await hypha.waitForLine(
      /ERROR +unhandled rejection reason="?a rejection nobody handled/,
    );
    await hypha.waitForLine(
      /ERROR +uncaught error reason="?an error nobody caught/,
    );
    const api = hypha.urls.api.replace(/\/$/, "");
    assert.equal(
      (await publish(`${api}/notify`, { after: "faults" })).status,
      202,
    );
    await subscriber.waitFor(1);
    assert.deepEqual(subscriber.events.map((e) => e.data), [
      '{"after":"faults"}',
    ]);
    subscriber.close();
    assert.equal(await hypha.stop(), 0);
    assert.ok(
      !hypha.lines.some((l) => /^\s+at /.test(l)),
      "the runtime printed no report of its own",
    );
  });
});
