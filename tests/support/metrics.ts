/**
 * Reading /metrics in tests: fetch the text, look up one sample by name and
 * labels, and run Prometheus' own `promtool check metrics` over it.
 */

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** One scrape: the text and a lookup of a sample. */
export interface Scrape {
  readonly text: string;
  /** The sample's value; undefined when the series is absent. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

/** Parses the exposition text (enough for the tests: no escapes in labels). */
export function parseScrape(text: string): Scrape {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`unparseable sample line: ${line}`);
    const labels = [...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)]
      .map(([, k, v]) => `${k}=${v}`).sort().join(",");
    samples.set(`${m[1]}{${labels}}`, Number(m[3]));
  }
  return {
    text,
    value(name, labels = {}) {
      const key = Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort()
        .join(",");
      return samples.get(`${name}{${key}}`);
    },
  };
}

/** GET `url` and parse it. */
export async function scrape(
  url: string,
  headers: Record<string, string> = {},
): Promise<Scrape> {
  const response = await fetch(url, { headers });
  if (response.status !== 200) {
    throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  }
  return parseScrape(await response.text());
}

/** Runs `promtool check metrics`; resolves with its output, rejects on lint. */
export async function promtoolCheck(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "hypha-metrics-"));
  const file = join(dir, "metrics.txt");
  try {
    await writeFile(file, text);
    const { stdout, stderr } = await exec("sh", [
      "-c",
      `promtool check metrics < "${file}"`,
    ]);
    return stdout + stderr;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
