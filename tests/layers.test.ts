import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, test } from "node:test";

const ROOT = new URL("../", import.meta.url).pathname;

/** Every .ts file under `dir`, relative to the repository. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sources(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

/** The relative modules a file imports or re-exports (type-only ones too). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const found: string[] = [];
  for (
    const m of text.matchAll(/(?:import|export)[^;]*?from\s+"(\.[^"]+)"/gs)
  ) {
    found.push(relative(ROOT, normalize(join(ROOT, dirname(file), m[1]))));
  }
  return found;
}

const graph = new Map(sources("src").map((f) => [f, importsOf(f)]));

/** One cycle through `start`, if any (depth-first). */
function cycleFrom(start: string): string[] | undefined {
  const path: string[] = [];
  const seen = new Set<string>();
  const visit = (file: string): string[] | undefined => {
    if (file === start && path.length > 0) return [...path, file];
    if (seen.has(file)) return undefined;
    seen.add(file);
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    return undefined;
  };
  return visit(start);
}

describe("layers of src/", () => {
  test("no import cycles, type-only imports included", () => {
    const cycles = [...graph.keys()].map(cycleFrom).filter((c) =>
      c !== undefined
    );
    assert.deepEqual(cycles.map((c) => c!.join(" -> ")), []);
  });

  test("a lower layer never imports a higher one", () => {
    // Higher layers may import lower ones, never the other way round. The
    // config's schema is low; checking and loading it sit above what they
    // check (auth keys, the callback URL).
    const checks =
      /^src\/config\/(check(_auth|_cluster|_flow_expressions)?\.ts|load\.ts|hcl\/)/;
    const rank = (file: string) =>
      file.startsWith("src/core/")
        ? 0
        : checks.test(file)
        ? 3
        : file.startsWith("src/rabbitmq/") || file.startsWith("src/config/")
        ? 1
        : file.startsWith("src/cluster/") || file.startsWith("src/auth/") ||
            file.startsWith("src/presence/") ||
            file.startsWith("src/mercure/")
        ? 2
        : file.startsWith("src/sources/")
        ? 3
        : file.startsWith("src/ops/") || file.startsWith("src/runtime/")
        ? 4
        : 5;
    const wrong: string[] = [];
    for (const [file, imports] of graph) {
      for (const target of imports) {
        if (rank(target) > rank(file)) wrong.push(`${file} -> ${target}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  test("no file in src/ is longer than 250 lines", () => {
    const long = [...graph.keys()].filter((f) =>
      readFileSync(join(ROOT, f), "utf8").split("\n").length > 251
    );
    assert.deepEqual(long, []);
  });

  test("no top-level function in src/ is longer than 100 lines", () => {
    const long: string[] = [];
    for (const file of graph.keys()) {
      const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
      let start = -1;
      let name = "";
      lines.forEach((line, i) => {
        const m = /^(?:export )?(?:async )?function\s+(\w+)/.exec(line);
        if (m && start < 0) [start, name] = [i, m[1]];
        if (start >= 0 && line.startsWith("}")) {
          if (i - start + 1 > 100) long.push(`${file} ${name}`);
          start = -1;
        }
      });
    }
    assert.deepEqual(long, []);
  });
});
