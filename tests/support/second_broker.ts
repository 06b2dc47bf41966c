/**
 * A RabbitMQ node of the test's own, on free ports with its own data, for
 * tests that stop or break the broker: the shared one at 5672 stays up for
 * every other test (and engineer) on the machine. Needs the Debian
 * rabbitmq-server package and root (the data folder is handed to the
 * rabbitmq user), as on the development machines and CI.
 */

import { execFile } from "node:child_process";
import { chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.ts";

const exec = promisify(execFile);

/** A running node. */
export interface SecondBroker {
  readonly port: number;
  /** amqp://guest:guest@127.0.0.1:<port> (guest may log in over loopback). */
  readonly url: string;
  /** rabbitmqctl against this node, e.g. ("stop_app"). */
  ctl(...args: string[]): Promise<void>;
  /** Stops the node and removes its data. */
  stop(): Promise<void>;
}

/** Starts a node and waits until it accepts AMQP. */
export async function startSecondBroker(): Promise<SecondBroker> {
  const port = await freePort();
  const dist = await freePort();
  const node = `hypha-test-${port}@localhost`;
  const dir = await mkdtemp(join(tmpdir(), "hypha-rabbit-"));
  await writeFile(join(dir, "enabled_plugins"), "[].\n");
  const { uid, gid } = await rabbitmqUser();
  await chown(dir, uid, gid);
  await chown(join(dir, "enabled_plugins"), uid, gid);
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(dist),
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    // Not the machine's rabbitmq.conf, which pins the listener to 5672.
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq"),
  };
  const ctl = async (...args: string[]) => {
    await exec("rabbitmqctl", ["-n", node, ...args], { timeout: 120_000 });
  };
  await exec("rabbitmq-server", ["-detached"], { env, timeout: 60_000 });
  // The node registers with epmd a moment after -detached returns.
  for (let tries = 0;; tries++) {
    try {
      await ctl("await_startup", "--timeout", "90");
      break;
    } catch (error) {
      if (tries >= 30) throw error;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  return {
    port,
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    ctl,
    async stop() {
      await ctl("stop").catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function rabbitmqUser(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await exec("id", ["rabbitmq"]);
  const uid = Number(/uid=(\d+)/.exec(stdout)?.[1]);
  const gid = Number(/gid=(\d+)/.exec(stdout)?.[1]);
  return { uid, gid };
}
