/**
 * TLS in front of the test broker: certificates made with openssl in a temp
 * dir (a CA, a server certificate for localhost/127.0.0.1, a client
 * certificate, and an unrelated CA), and stunnel4 accepting TLS on a free
 * port, requiring a client certificate signed by the CA, and forwarding to
 * RabbitMQ on 127.0.0.1:5672.
 */

import { execFile } from "node:child_process";
import { connect } from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Child, spawnChild } from "./spawn.ts";

const exec = promisify(execFile);

/** Paths of the PEM files a test uses. */
export interface Certificates {
  readonly dir: string;
  readonly ca: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A CA that signed nothing here: trusting it must fail. */
  readonly otherCa: string;
  readonly serverCert: string;
  readonly serverKey: string;
  remove(): Promise<void>;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  await exec("openssl", args, { cwd: dir });
}

async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
  );
}

async function makeSigned(
  dir: string,
  name: string,
  extensions: string,
): Promise<void> {
  await openssl(
    dir,
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
  );
  await writeFile(join(dir, `${name}.ext`), extensions);
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.pem`,
  );
}

/** Makes a CA, server and client certificates, and an unrelated CA. */
export async function makeCertificates(): Promise<Certificates> {
  const dir = await mkdtemp(join(tmpdir(), "hypha-tls-"));
  await makeCa(dir, "ca");
  await makeCa(dir, "other-ca");
  await makeSigned(
    dir,
    "server",
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
  );
  await makeSigned(dir, "client", "extendedKeyUsage=clientAuth\n");
  const at = (file: string) => join(dir, file);
  return {
    dir,
    ca: at("ca.pem"),
    otherCa: at("other-ca.pem"),
    clientCert: at("client.pem"),
    clientKey: at("client.key"),
    serverCert: at("server.pem"),
    serverKey: at("server.key"),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A running stunnel: TLS on `port`, plain AMQP to the broker behind it. */
export interface Stunnel {
  readonly port: number;
  /** Everything stunnel logged. */
  log(): string;
  stop(): Promise<void>;
}

/** Starts stunnel4 on `port` with `certs`, requiring a client certificate. */
export async function startStunnel(
  certs: Certificates,
  port: number,
): Promise<Stunnel> {
  const config = join(certs.dir, `stunnel-${port}.conf`);
  await writeFile(
    config,
    `foreground = yes
pid =
debug = 5
[amqps]
accept = 127.0.0.1:${port}
connect = 127.0.0.1:5672
cert = ${certs.serverCert}
key = ${certs.serverKey}
CAfile = ${certs.ca}
requireCert = yes
verifyChain = yes
`,
  );
  const child: Child = spawnChild("stunnel4", [config], certs.dir, {});
  let log = "";
  child.onOutput((text) => log += text);
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`stunnel did not listen on ${port}; log:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    log: () => log,
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}
