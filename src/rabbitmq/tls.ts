/**
 * Reads the PEM files of each RabbitMQ connector's `[tls]` table at start,
 * with the runtime's reader, so a missing or unreadable file is a config
 * error that names the key and the path, never a failed connect later.
 *
 * @module
 */

import { errorMessage } from "../core/errors.ts";
import type { AMQPTlsOptions } from "@cloudamqp/amqp-client";
import { ConfigError } from "../config/error.ts";
import type { Config } from "../config/schema.ts";

/** Reads a text file; the entrypoint supplies the runtime's. */
export type ReadTextFile = (path: string) => Promise<string>;

/** TLS options by connector name, for connectors with a `[tls]` table. */
export async function loadBrokerTls(
  config: Config,
  file: string,
  readTextFile: ReadTextFile,
): Promise<Record<string, AMQPTlsOptions>> {
  const options: Record<string, AMQPTlsOptions> = {};
  for (const [name, c] of Object.entries(config.connector)) {
    if (c.type !== "mq" || c.tls === undefined) continue;
    const read = async (key: "cert" | "key" | "ca_cert") => {
      const path = c.tls?.[key];
      if (path === undefined) return undefined;
      try {
        return await readTextFile(path);
      } catch (error) {
        const reason = errorMessage(error);
        throw new ConfigError(
          `${file}: connector.${name}.tls.${key}: cannot read ${
            JSON.stringify(path)
          }: ${reason}`,
        );
      }
    };
    const [cert, key, ca] = [
      await read("cert"),
      await read("key"),
      await read("ca_cert"),
    ];
    options[name] = {
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
      ...(ca === undefined ? {} : { ca }),
    };
  }
  return options;
}

/**
 * What to do about a failed TLS handshake, from the error's text (which
 * differs between runtimes: Deno "received fatal alert:
 * CertificateRequired", Bun "TLSV1_ALERT_CERTIFICATE_REQUIRED"), or
 * undefined when the failure is not about certificates.
 */
export function tlsAdvice(reason: string): string | undefined {
  if (/certificate.?required/i.test(reason)) {
    return "the broker requires a client certificate: set tls.cert and tls.key";
  }
  if (
    /self[- ]signed|unable to (get|verify)|unknown ca|certificate verify|UNABLE_TO/i
      .test(reason)
  ) {
    return "the broker's certificate is not signed by a trusted CA: set tls.ca_cert to the CA that signed it";
  }
  if (/altname|hostname|does not match/i.test(reason)) {
    return "the broker's certificate is not for this host name: connect to a name the certificate lists";
  }
  if (/bad certificate|certificate (unknown|revoked|expired)/i.test(reason)) {
    return "the broker refused the client certificate: check tls.cert, tls.key and the CA the broker trusts";
  }
  return undefined;
}
