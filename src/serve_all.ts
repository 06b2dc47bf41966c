/**
 * Binds the app's listeners one by one and says where each listens; a
 * listener that cannot bind stops the ones already bound.
 *
 * @module
 */

import type { Listener, RunningServer } from "./core/http/http.ts";
import type { InternalErrorLog, Logger } from "./core/log.ts";
import type { Accepting } from "./ops/accepting.ts";

/** What binding needs of the runtime. */
interface Serving {
  readonly serve: (listener: Listener) => Promise<RunningServer>;
  readonly log: Logger;
}

/** Binds every listener; on a failure, stops the ones already bound. */
export async function serveAll(
  listeners: readonly Listener[],
  runtime: Serving,
  ops: { bound(listener: string): void },
  { accepting, logInternal }: {
    accepting: Accepting;
    logInternal: InternalErrorLog;
  },
): Promise<RunningServer[]> {
  const servers: RunningServer[] = [];
  try {
    for (const listener of listeners) {
      const name = listener.connector;
      // The port is known once bound; a failure before that names the asked.
      let address = `${formatHost(listener.host)}:${listener.port}`;
      const server = await runtime.serve({
        ...listener,
        onError: (error) => logInternal(name, error),
        onWarning: (message) => runtime.log.warn(message, { connector: name }),
        onAcceptError: (error) => accepting.failed(name, address, error),
        onAcceptRecovered: () => accepting.recovered(name, address),
        onAcceptEnded: (error) => accepting.ended(name, address, error),
      });
      address = `${formatHost(listener.host)}:${server.port}`;
      servers.push(server);
      ops.bound(name);
      runtime.log.info("listening", {
        connector: name,
        url: `${listener.tls ? "https" : "http"}://${address}${listener.path}`,
      });
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    throw error;
  }
  return servers;
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
