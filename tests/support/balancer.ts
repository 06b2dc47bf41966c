/**
 * A TCP load balancer for cluster tests: each new connection goes to the
 * next backend, round-robin; when either side closes, both do. Like a real
 * one, it sends clients that reconnect to whichever instance is next.
 */

import { connect, createServer, type Socket } from "node:net";

/** A running balancer. */
export interface Balancer {
  /** `http://127.0.0.1:<port>` plus `path`. */
  url(path: string): string;
  /** Replaces the backends (ports on 127.0.0.1). */
  setBackends(ports: readonly number[]): void;
  close(): Promise<void>;
}

/** Starts a balancer on a free port. */
export function startBalancer(ports: readonly number[]): Promise<Balancer> {
  let backends = [...ports];
  let next = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    if (backends.length === 0) return client.destroy();
    const port = backends[next++ % backends.length];
    const upstream = connect({ host: "127.0.0.1", port });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      const end = () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      };
      socket.on("close", end);
      socket.on("error", end);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      resolve({
        url: (path) => `http://127.0.0.1:${port}${path}`,
        setBackends(list) {
          backends = [...list];
        },
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** The port of a listener URL like http://127.0.0.1:1234/events. */
export function portOf(url: string): number {
  return Number(new URL(url).port);
}
