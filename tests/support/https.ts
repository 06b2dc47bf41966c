/**
 * HTTPS for tests: a throwaway self-signed certificate for 127.0.0.1 and
 * localhost made with openssl, and curl as an HTTPS client that reports the
 * HTTP version it negotiated.
 */

import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { spawnChild } from "./spawn.ts";

const exec = promisify(execFile);

/** Paths of a certificate, its key, and a key that does not match it. */
export interface TestCertificate {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
  readonly otherKey: string;
  remove(): Promise<void>;
}

/** Makes a self-signed certificate for 127.0.0.1 and localhost (2 days). */
export async function makeCertificate(): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), "hypha-tls-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const otherKey = join(dir, "other-key.pem");
  await exec("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    key,
    "-out",
    cert,
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
  ]);
  await exec("openssl", [
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-out",
    otherKey,
  ]);
  return {
    dir,
    cert,
    key,
    otherKey,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A listener's `tls` table with `cert`'s files. */
export function tlsFiles(
  cert: TestCertificate,
): { cert_file: string; key_file: string } {
  return { cert_file: cert.cert, key_file: cert.key };
}

/** A running `curl -k -sN -D - --http2 url`: headers and body as they come. */
export interface CurlStream {
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Streams `url` with curl (certificate not checked: it is self-signed). */
export function curlStream(url: string): CurlStream {
  const child = spawnChild(
    "curl",
    ["-k", "-sN", "-D", "-", "--http2", url],
    tmpdir(),
    {},
  );
  let text = "";
  child.onOutput((chunk) => text += chunk);
  return {
    output: () => text,
    async waitFor(pattern, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(text)) {
        if (Date.now() > deadline) {
          throw new Error(
            `curl: no ${pattern} within ${timeoutMs} ms: ${text}`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return text;
    },
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

/** GET `url` with curl; status line, headers and body. */
export async function curlGet(
  url: string,
  headers: string[] = [],
): Promise<string> {
  const { stdout } = await exec("curl", [
    "-k",
    "-s",
    "-D",
    "-",
    "--http2",
    "--max-time",
    "10",
    ...headers.flatMap((h) => ["-H", h]),
    url,
  ]);
  return stdout;
}
