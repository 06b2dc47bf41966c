/**
 * Reads the certificate and key of every `tls` table at start and checks
 * that they belong together, so a bad file is a config error that names the
 * key path and the file, never a failed handshake at the first client.
 *
 * @module
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import { ConfigError } from "../config/error.ts";
import type { Config } from "../config/schema.ts";
import type { Tls } from "../config/schema_parts.ts";
import { errorMessage } from "../core/errors.ts";

/** PEM text of a certificate (chain) and its private key. */
export interface TlsPem {
  readonly cert: string;
  readonly key: string;
}

/** The key under which the admin listener's TLS is found. */
export const ADMIN_LISTENER = "service.admin";

/** TLS material by listener: connector name, or {@link ADMIN_LISTENER}. */
export async function loadTls(
  config: Config,
  file: string,
  readTextFile: (path: string) => Promise<string>,
): Promise<Record<string, TlsPem>> {
  const wanted: [string, string, Tls][] = [];
  for (const [name, c] of Object.entries(config.connector)) {
    if (c.type !== "mq" && c.tls) {
      wanted.push([name, `connector.${name}`, c.tls]);
    }
  }
  const admin = config.service.admin;
  if (admin?.tls) wanted.push([ADMIN_LISTENER, ADMIN_LISTENER, admin.tls]);
  const loaded: Record<string, TlsPem> = {};
  for (const [listener, at, tls] of wanted) {
    loaded[listener] = await loadPair(`${file}: ${at}.tls`, tls, readTextFile);
  }
  return loaded;
}

async function loadPair(
  at: string,
  tls: Tls,
  readTextFile: (path: string) => Promise<string>,
): Promise<TlsPem> {
  const read = async (field: string, path: string) => {
    try {
      return await readTextFile(path);
    } catch (error) {
      throw new ConfigError(
        `${at}.${field}: cannot read ${JSON.stringify(path)}: ${
          errorMessage(error)
        }`,
      );
    }
  };
  const cert = await read("cert_file", tls.cert_file);
  const key = await read("key_file", tls.key_file);
  let certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (error) {
    throw new ConfigError(
      `${at}.cert_file: ${
        JSON.stringify(tls.cert_file)
      } is not a PEM certificate: ${errorMessage(error)}`,
    );
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new ConfigError(
      `${at}.key_file: ${
        JSON.stringify(tls.key_file)
      } is not a PEM private key: ${errorMessage(error)}`,
    );
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new ConfigError(
      `${at}.key_file: ${JSON.stringify(tls.key_file)} is not the key of ${
        JSON.stringify(tls.cert_file)
      } (the certificate's public key does not match)`,
    );
  }
  return { cert, key };
}
