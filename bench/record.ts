/**
 * Writes a bench run to bench/results/: `<date>-<what>.json` (every round
 * and the medians, as measured) and `<date>-<what>.md` (the command, the
 * git revision, the runtime, broker and peer versions, the machine and its
 * load before and after, then the tables). Written by the bench, never
 * copied by hand; the prose about what a run shows goes beside it.
 */

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import process from "node:process";

const ROOT = new URL("../", import.meta.url).pathname;

/** What a run was measured with, read when it starts. */
export interface RunContext {
  readonly command: string;
  readonly started: string;
  readonly revision: string;
  readonly versions: Record<string, string>;
  readonly machine: string;
  readonly loadBefore: string;
}

/** A command's first output line, or what kept it from running. */
function firstLine(command: string, args: string[]): string {
  try {
    const out = execFileSync(command, args, {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return out.trim().split("\n")[0];
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    // nginx -v prints to stderr and exits 0; a missing tool throws.
    return stderr ? stderr.split("\n")[0] : "not found";
  }
}

function nginxVersion(): string {
  try {
    const out = execFileSync("nginx", ["-v"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return out.trim();
  } catch (error) {
    const e = error as { stderr?: string; status?: number };
    return e.stderr?.trim() || "not found";
  }
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");

/** Reads the revision, versions and machine; call before the first round. */
export function runContext(): RunContext {
  const revision = firstLine("git", ["rev-parse", "--short", "HEAD"]);
  const dirty = firstLine("git", [
    "status",
    "--porcelain",
    "--",
    "src",
    "bench",
  ]);
  return {
    command: `bench/${
      process.argv.slice(1).map((a) => a.split("/bench/").pop()).join(" ")
    }`,
    started: new Date().toISOString(),
    revision: dirty === "" || dirty === "not found"
      ? revision
      : `${revision} (with uncommitted changes)`,
    versions: {
      deno: firstLine("./node_modules/deno/deno", ["--version"]),
      bun: firstLine("./node_modules/bun/bin/bun.exe", ["--version"]),
      generator: "Bun" in globalThis
        ? `bun ${process.versions.bun}`
        : `deno ${
          (globalThis as { Deno?: { version: { deno: string } } }).Deno?.version
            .deno
        }`,
      nginx: nginxVersion(),
      nchan: firstLine("dpkg-query", [
        "-W",
        "-f",
        "${Version}",
        "libnginx-mod-nchan",
      ]),
      rabbitmq: firstLine("dpkg-query", [
        "-W",
        "-f",
        "${Version}",
        "rabbitmq-server",
      ]),
    },
    machine: `${cpus().length} cores (${cpus()[0]?.model ?? "unknown"}), ${
      Math.round(totalmem() / 2 ** 30)
    } GiB`,
    loadBefore: load(),
  };
}

/** Writes the run's JSON and markdown; returns the markdown's path. */
export async function recordRun(
  what: string,
  context: RunContext,
  data: { rounds: unknown[]; medians: unknown; tables: string[] },
): Promise<string> {
  const day = context.started.slice(0, 10);
  let base = join(ROOT, "bench/results", `${day}-${what}`);
  // A second run of the day keeps the first.
  if (existsSync(`${base}.md`)) {
    base += `-${context.started.slice(11, 16).replace(":", "")}`;
  }
  const loadAfter = load();
  await writeFile(
    `${base}.json`,
    JSON.stringify({ ...context, loadAfter, ...data }, null, 2) + "\n",
  );
  const versions = Object.entries(context.versions)
    .map(([k, v]) => `- ${k}: ${v}`).join("\n");
  const markdown = `# ${what}, ${day}

Written by the bench (\`--record ${what}\`); what the numbers show is
discussed in [docs/performance.md](../../docs/performance.md).

- command: \`${context.command}\`
- started: ${context.started}, finished: ${new Date().toISOString()}
- revision: ${context.revision}
- machine: ${context.machine}; load average (1, 5, 15 min) before ${context.loadBefore}, after ${loadAfter}
${versions}

${data.tables.join("\n\n")}
`;
  await writeFile(`${base}.md`, markdown);
  return `${base}.md`;
}
