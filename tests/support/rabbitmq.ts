/**
 * The real broker for tests: a publisher, unique names, cleanup of what a
 * test declared, queue counters, and closing one hypha connection from the
 * broker side. Other test runs share the broker, so everything here touches
 * only names and connections the calling test made.
 */

import { type AMQPChannel, AMQPClient } from "@cloudamqp/amqp-client";
import { execFile } from "node:child_process";
import { connect, createServer, type Server, type Socket } from "node:net";
import { promisify } from "node:util";
import type { Subscriber } from "./clients.ts";
import { adminStats, type Hypha } from "./hypha.ts";
import { RABBITMQ_URL } from "./config_builder.ts";

export { RABBITMQ_URL };

const exec = promisify(execFile);

/** A name no other test run uses: `hypha-test-<what>-<random>`. */
export function uniqueName(what: string): string {
  return `hypha-test-${what}-${crypto.randomUUID().slice(0, 8)}`;
}

/** A test's own connection to the broker. */
export interface Broker {
  readonly channel: AMQPChannel;
  /** Publishes `body` (objects as JSON) to `exchange` with `routingKey`. */
  publish(
    exchange: string,
    routingKey: string,
    body: unknown,
    headers?: Record<string, string | number>,
  ): Promise<void>;
  /** Messages ready in `queue` (not delivered to any consumer). */
  ready(queue: string): Promise<number>;
  /** Bodies of the messages in `queue`, taken off it. */
  drain(queue: string): Promise<string[]>;
  /** Deletes these queues and exchanges (that the test made) and closes. */
  cleanup(names: { queues?: string[]; exchanges?: string[] }): Promise<void>;
}

/** Connects a publisher with confirms, so a resolved publish is on the broker. */
export async function connectBroker(): Promise<Broker> {
  const client = new AMQPClient(RABBITMQ_URL, undefined, null);
  client.name = uniqueName("publisher");
  await client.connect();
  const channel = await client.channel();
  await channel.confirmSelect();
  return {
    channel,
    async publish(exchange, routingKey, body, headers) {
      await channel.basicPublish(
        exchange,
        routingKey,
        typeof body === "string" || body instanceof Uint8Array
          ? body
          : JSON.stringify(body),
        { contentType: "application/json", headers, deliveryMode: 2 },
      );
    },
    async ready(queue) {
      const ok = await channel.queueDeclare(queue, { passive: true });
      return ok.messageCount;
    },
    async drain(queue) {
      const bodies: string[] = [];
      for (;;) {
        const message = await channel.basicGet(queue, { noAck: true });
        if (message === null) return bodies;
        bodies.push(message.bodyToString() ?? "");
      }
    },
    async cleanup({ queues = [], exchanges = [] }) {
      for (const queue of queues) await channel.queueDelete(queue);
      for (const exchange of exchanges) await channel.exchangeDelete(exchange);
      await client.close();
    },
  };
}

/** Ready and unacknowledged counts of `queue`, as the broker reports them. */
export async function queueCounts(
  queue: string,
): Promise<{ ready: number; unacked: number } | undefined> {
  const { stdout } = await exec("rabbitmqctl", [
    "list_queues",
    "-q",
    "--no-table-headers",
    "name",
    "messages_ready",
    "messages_unacknowledged",
  ]);
  for (const line of stdout.split("\n")) {
    const [name, ready, unacked] = line.split("\t");
    if (name === queue) {
      return { ready: Number(ready), unacked: Number(unacked) };
    }
  }
  return undefined;
}

/** Broker pids of the connections named exactly `connectionName`. */
export async function connectionPids(
  connectionName: string,
): Promise<string[]> {
  const { stdout } = await exec("rabbitmqctl", [
    "list_connections",
    "-q",
    "--no-table-headers",
    "pid",
    "client_properties",
  ]);
  const marker = `{"connection_name","${connectionName}"}`;
  return stdout.split("\n")
    .filter((line) => line.includes(marker))
    .map((line) => line.split("\t")[0]);
}

/**
 * Closes, from the broker side, the connections whose connection_name is
 * exactly `connectionName`; resolves with how many it closed.
 */
export async function closeConnection(connectionName: string): Promise<number> {
  const pids = await connectionPids(connectionName);
  for (const pid of pids) {
    await exec("rabbitmqctl", ["close_connection", pid, "cut by a hypha test"]);
  }
  return pids.length;
}

/** Polls `probe` until it returns true, for at most `timeoutMs`. */
export async function eventually(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The integers from `from` to `to`, inclusive. */
export const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The counters of source `name` from the admin listener's GET /stats. */
export async function sourceStats(
  hypha: Hypha,
  name = "rabbit",
): Promise<
  {
    received: number;
    delivered: number;
    rejected: Record<string, number>;
    connected?: boolean;
  }
> {
  return (await adminStats(hypha)).sources[name];
}

/** Waits until `subscriber` has received events carrying each `n`. */
export async function waitForNumbers(
  subscriber: Subscriber,
  expected: number[],
  timeoutMs = 20_000,
): Promise<number[]> {
  const numbers = () => subscriber.events.map((e) => JSON.parse(e.data).n);
  await eventually(
    `events ${JSON.stringify(expected)} (got ${JSON.stringify(numbers())})`,
    () => Promise.resolve(expected.every((n) => numbers().includes(n))),
    timeoutMs,
  );
  return numbers();
}

/** A port that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        resolve(typeof address === "object" && address ? address.port : 0)
      );
    });
  });
}

/** A running proxy to the broker. */
export interface BrokerProxy {
  /** Resets (TCP RST) every connection through it now; returns how many. */
  reset(): number;
  close(): Promise<void>;
}

/** A TCP proxy from 127.0.0.1:`port` to the broker: "the broker comes up". */
export function startBrokerProxy(port: number): Promise<BrokerProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect({ host: "127.0.0.1", port: 5672 });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(port, "127.0.0.1", () =>
      resolve({
        reset() {
          // hypha's side gets the RST; the broker's side a plain close.
          const all = [...sockets];
          const clients = all.filter((s) => s.localPort === port);
          for (const socket of clients) socket.resetAndDestroy();
          for (const socket of all) socket.destroy();
          return clients.length;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      }));
  });
}

/** A broker user of its own, for tests that look for its password. */
export interface BrokerUser {
  readonly name: string;
  readonly password: string;
  remove(): Promise<void>;
}

/** Adds a user with every permission on vhost "/"; `remove` deletes it. */
export async function addBrokerUser(): Promise<BrokerUser> {
  const name = uniqueName("user");
  const password = `pw-${crypto.randomUUID()}`;
  await exec("rabbitmqctl", ["add_user", "-q", name, password]);
  await exec("rabbitmqctl", [
    "set_permissions",
    "-q",
    "-p",
    "/",
    name,
    ".*",
    ".*",
    ".*",
  ]);
  return {
    name,
    password,
    remove: async () => {
      await exec("rabbitmqctl", ["delete_user", "-q", name]);
    },
  };
}
