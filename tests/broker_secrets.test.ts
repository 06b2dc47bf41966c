import { AMQPClient, AMQPError } from "@cloudamqp/amqp-client";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { errorMessage } from "../src/core/errors.ts";
import { main } from "../src/main.ts";
import { until } from "./support/clients.ts";
import {
  cleanupCluster,
  clusterConfig,
  clusterNames,
} from "./support/cluster.ts";
import { publish, RUNTIME, startHypha } from "./support/hypha.ts";
import {
  addBrokerUser,
  eventually,
  freePort,
  startBrokerProxy,
} from "./support/rabbitmq.ts";
import { sse, toml } from "./support/config_builder.ts";

const PASSWORD = "pw-that-must-never-be-printed";

/** An AMQPError as amqp-client makes them: its connection has the password. */
function amqpError(message: string): AMQPError {
  const client = new AMQPClient(
    `amqp://hypha:${PASSWORD}@127.0.0.1:1/`,
    undefined,
    null,
  );
  return new AMQPError(message, client);
}

describe("errorMessage", () => {
  test("is the message alone, never the error's other properties", () => {
    assert.equal(errorMessage(amqpError("Socket closed")), "Socket closed");
  });

  test("hides the password of a URL in the message", () => {
    assert.equal(
      errorMessage(
        new TypeError(`Invalid URL: 'amqps://hypha:${PASSWORD}@broker:5671/'`),
      ),
      "Invalid URL: 'amqps://hypha:***@broker:5671/'",
    );
  });

  test("prints what is not an Error, and what cannot be printed", () => {
    assert.equal(errorMessage("gone"), "gone");
    assert.equal(
      errorMessage(Object.create(null)),
      "(an error that cannot be printed)",
    );
  });
});

describe("errors nobody handled", () => {
  test("are logged with their message only, and the hub keeps running", async () => {
    const lines: string[] = [];
    let reject: ((reason: unknown) => void) | undefined;
    let uncaught: ((error: unknown) => void) | undefined;
    let signal: ((name: string) => void) | undefined;
    const exits: number[] = [];
    main({
      args: ["--config", "hypha.toml"],
      env: {},
      readTextFile: () => Promise.resolve(toml({ connector: { sse: sse() } })),
      serve: () => Promise.resolve({ port: 1, stop: () => Promise.resolve() }),
      onSignal: (handler) => signal = handler,
      onUnhandledRejection: (handler) => reject = handler,
      onUncaughtError: (handler) => uncaught = handler,
      print: (text) => lines.push(text),
      printError: (line) => lines.push(line),
      // Recorded, not ended: this process is the test runner.
      exit: (code) => {
        exits.push(code);
        return undefined as never;
      },
    }).catch(() => {});
    await until(() => lines.some((l) => / ready/.test(l)), "ready");
    reject!(amqpError("Channel is closed"));
    uncaught!(amqpError("Heartbeat timeout"));
    assert.match(
      lines.at(-2)!,
      /ERROR +unhandled rejection reason="Channel is closed"$/,
    );
    assert.match(
      lines.at(-1)!,
      /ERROR +uncaught error reason="Heartbeat timeout"$/,
    );
    assert.doesNotMatch(lines.join("\n"), new RegExp(PASSWORD));
    assert.deepEqual(exits, [], "still running");
    signal!("SIGTERM");
    await until(() => exits.length > 0, "stopped");
  });
});

describe(`broker connections reset (${RUNTIME})`, () => {
  test("the broker password appears nowhere in hypha's output", async () => {
    const user = await addBrokerUser();
    const port = await freePort();
    const proxy = await startBrokerProxy(port);
    const names = clusterNames();
    const url = `amqp://${user.name}:${user.password}@127.0.0.1:${port}`;
    const hypha = await startHypha(clusterConfig(names, {}, url));
    let output = "";
    hypha.process.onOutput((text) => output += text);
    const count = (pattern: RegExp) =>
      hypha.lines.filter((l) => pattern.test(l)).length;
    try {
      for (let round = 1; round <= 3; round++) {
        // Appends in flight on the stream connection while it is reset.
        const appends = Array.from(
          { length: 20 },
          (_, n) => publish(`${hypha.urls.api}notify`, { n }).catch(() => {}),
        );
        assert.ok(proxy.reset() > 0, "connections to reset");
        await Promise.all(appends);
        await eventually(
          `attached and connected again (round ${round})`,
          () =>
            Promise.resolve(
              count(/INFO\s+cluster log attached/) > round &&
                count(/INFO\s+connected connector=rabbit/) > round,
            ),
        );
      }
      assert.match(hypha.lines.join("\n"), /WARN\s+cluster log detached/);
    } finally {
      await hypha.stop();
      await proxy.close();
      await user.remove();
      await cleanupCluster(names);
    }
    assert.ok(!output.includes(user.password), "the password was printed");
    assert.ok(
      !hypha.lines.join("\n").includes(user.password),
      "the password was logged",
    );
  });
});
