/**
 * Everything start reads before it binds a port: the config file, then the
 * files it names (subscriber auth keys, broker TLS, listener TLS). Start and
 * `hypha check` both call this, so a config check can never pass a file
 * that start refuses.
 *
 * @module
 */

import { createSubscriberAuth, type SubscriberAuth } from "./auth/setup.ts";
import { loadConfig, type LoadedConfig } from "./config/load.ts";
import { loadTls, type TlsPem } from "./ops/tls.ts";
import { loadBrokerTls } from "./rabbitmq/tls.ts";

/** A validated config with every file it names read and checked. */
export interface Prepared extends LoadedConfig {
  readonly auth: SubscriberAuth;
  readonly brokerTls: Awaited<ReturnType<typeof loadBrokerTls>>;
  readonly tls: Record<string, TlsPem>;
}

/** Loads `file`; a user mistake throws ConfigError (exit 2). */
export async function prepareConfig(
  file: string,
  readTextFile: (path: string) => Promise<string>,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Prepared> {
  const loaded = await loadConfig(file, readTextFile, env);
  const auth = await createSubscriberAuth(loaded.config, file, readTextFile);
  const brokerTls = await loadBrokerTls(loaded.config, file, readTextFile);
  const tls = await loadTls(loaded.config, file, readTextFile);
  return { ...loaded, auth, brokerTls, tls };
}
