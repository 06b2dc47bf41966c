import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { main } from "../src/main.ts";
import { until } from "./support/clients.ts";

const CONFIG = `
[connector.sse]
type = "sse"
host = "127.0.0.1"
port = 0
heartbeat_interval = "0s"
`;

describe("a rejection nobody handled", () => {
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
