/**
 * Opening one connection to the broker, the same way for every user of it
 * (the mq source, a cluster's stream link, the mq publisher): the URL with
 * its TLS material, a name operators see in the management UI, heartbeats,
 * and a deadline, since a TCP connect to a black-holed address hangs far
 * longer than anyone wants to wait for the first "retrying" line.
 *
 * @module
 */

import { AMQPClient, type AMQPTlsOptions } from "@cloudamqp/amqp-client";
import { errorMessage } from "../core/errors.ts";

const CONNECT_TIMEOUT_MS = 10_000;

/** Where and how to connect. */
export interface DialOptions {
  /** The URL with credentials; never logged. */
  readonly url: string;
  /** Client certificate and CA (`[connector.<mq>.tls]`). */
  readonly tlsOptions?: AMQPTlsOptions;
  readonly connectionName: string;
  readonly heartbeatSeconds: number;
}

/**
 * Connects a client. `lost` hears, once it is open, of its end (with the
 * reason); `track` sees the client while it connects (so a stop can cut it).
 * A failed or timed-out attempt leaves no socket behind.
 */
export async function dial(
  options: DialOptions,
  lost: (reason: string) => void,
  track?: (client: AMQPClient | undefined) => void,
): Promise<AMQPClient> {
  const client = new AMQPClient(options.url, options.tlsOptions, null);
  client.name = options.connectionName;
  client.heartbeat = options.heartbeatSeconds;
  client.ondisconnect = (error) =>
    lost(error === undefined ? "connection lost" : errorMessage(error));
  track?.(client);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`);
          client.socket?.destroy(error);
          reject(error);
        }, CONNECT_TIMEOUT_MS);
      }),
    ]);
    return client;
  } catch (error) {
    client.socket?.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
    track?.(undefined);
  }
}
