/**
 * The docs are checked like code: every TOML block in README.md and docs/
 * is a config hypha's own loader accepts (or, marked, a fragment of one),
 * every relative link leads somewhere, every command runs as printed, and
 * the quick start's publishes answer and deliver what the README shows.
 *
 * Markers, an HTML comment on the line before a block:
 *   <!-- fragment -->                  TOML that is only parsed
 *   <!-- fragment of config/x.toml --> merged into that file, then validated
 *   <!-- output of: hypha translate --> the translation of the hcl block above
 *   <!-- output of the quick start -->  the wire bytes the quick start produces
 */

import assert from "node:assert/strict";
import {
  access,
  mkdtemp,
  readdir,
  readFile,
  rm,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import { translateConfig } from "../src/config/hcl/translate.ts";
import { parseConfig } from "../src/config/load.ts";
import { inProcess, post } from "./support/in_process.ts";

/** What the examples read from the environment (`${HYPHA_JWT_SECRET}`...). */
const ENV = {
  HYPHA_JWT_SECRET: "an-example-secret-of-at-least-32-bytes",
  MERCURE_PUBLISHER_JWT_KEY: "an-example-publisher-key-of-32-bytes!",
  HYPHA_PUBLISH_TOKEN: "an-example-publisher-token-0123456789",
  HYPHA_ADMIN_TOKEN: "an-example-admin-token-0123456789",
  RABBITMQ_PASSWORD: "guest",
};

interface Block {
  readonly file: string;
  readonly line: number;
  readonly lang: string;
  readonly marker: string;
  readonly text: string;
}

const PAGES = [
  "README.md",
  ...(await readdir("docs")).filter((f) => f.endsWith(".md")).sort().map((f) =>
    `docs/${f}`
  ),
];
const TEXT = new Map<string, string>();
for (const page of PAGES) TEXT.set(page, await readFile(page, "utf8"));

/** Fenced blocks of `file`, with the marker comment just above each. */
function blocks(file: string): Block[] {
  const found: Block[] = [];
  const lines = TEXT.get(file)!.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^(\s*)```(\w*)\s*$/);
    if (!open) continue;
    const indent = open[1].length;
    const start = i;
    const body: string[] = [];
    while (++i < lines.length && !/^\s*```\s*$/.test(lines[i])) {
      body.push(lines[i].slice(indent));
    }
    let above = start - 1;
    while (above >= 0 && lines[above].trim() === "") above--;
    const marker = lines[above]?.match(/^\s*<!--\s*(.*?)\s*-->\s*$/)?.[1];
    found.push({
      file,
      line: start + 1,
      lang: open[2],
      marker: marker ?? "",
      text: body.join("\n"),
    });
  }
  return found;
}

const ALL = PAGES.flatMap(blocks);
const where = (b: Block) => `${b.file}:${b.line}`;

/** Tables merge key by key; anything else in `over` replaces. */
function merge(base: unknown, over: unknown): unknown {
  const isTable = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v) &&
    !(v instanceof Date);
  if (!isTable(base) || !isTable(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
  return out;
}

describe("docs: every TOML example is a config hypha accepts", () => {
  for (const block of ALL.filter((b) => b.lang === "toml")) {
    test(`${where(block)} (${block.marker || "a whole config"})`, async () => {
      const fragmentOf = block.marker.match(/^fragment of (\S+)$/)?.[1];
      if (block.marker === "fragment") {
        assert.doesNotThrow(() => parseToml(block.text));
      } else if (fragmentOf !== undefined) {
        const base = parseToml(await readFile(fragmentOf, "utf8"));
        const merged = stringifyToml(merge(base, parseToml(block.text)));
        parseConfig(merged, where(block), ENV);
      } else {
        parseConfig(block.text, where(block), ENV);
      }
    });
  }
  test("a translation shown is what `hypha translate` prints", async () => {
    const shown = ALL.filter((b) => b.marker === "output of: hypha translate");
    assert.ok(shown.length > 0, "no translation is marked");
    for (const toml of shown) {
      const list = blocks(toml.file);
      const hcl = list.slice(0, list.indexOf(toml)).findLast((b) =>
        b.lang === "hcl"
      );
      assert.ok(hcl, `${where(toml)}: no hcl block above it`);
      // translate reads a file: the block goes to a temp one named as shown.
      const dir = await mkdtemp(join(tmpdir(), "hypha-docs-"));
      const file = join(dir, "app.mycel");
      await writeFile(file, hcl.text);
      const printed = (await translateConfig(
        file,
        (path) => readFile(path, "utf8"),
        {},
      )).replace(file, "app.mycel");
      await rm(dir, { recursive: true });
      assert.equal(toml.text.trim(), printed.trim(), where(toml));
    }
  });
});

/** GitHub's anchor of a heading: lower case, punctuation dropped. */
const slug = (heading: string) =>
  heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(
    /\s/g,
    "-",
  );

function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of withoutFences(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Text outside fenced blocks. */
const withoutFences = (markdown: string) =>
  markdown.replace(/^\s*```[\s\S]*?^\s*```\s*$/gm, "");

/** Text outside fenced blocks and inline code. */
const withoutCode = (markdown: string) =>
  withoutFences(markdown).replace(/`[^`\n]*`/g, "");

describe("docs: the folder map and file names", () => {
  test("the architecture page's folder map names every file under src/, and only files that exist", async () => {
    const files = (await readdir("src", { recursive: true }))
      .map((f) => `src/${f}`.replaceAll("\\", "/")).filter((f) =>
        f.endsWith(".ts")
      );
    const map = blocks("docs/architecture.md").find((b) =>
      b.text.startsWith("src/")
    );
    assert.ok(map, "docs/architecture.md has a folder map");
    const named = new Set<string>();
    let dir = "";
    for (const line of map.text.split("\n")) {
      dir = line.match(/^(\S+\/)\s/)?.[1] ?? dir;
      for (const [name] of line.matchAll(/[\w./-]+\.ts\b/g)) {
        const found = name.includes("/")
          ? [name]
          : files.filter((f) => f.startsWith(dir) && f.endsWith(`/${name}`));
        assert.equal(found.length, 1, `folder map: ${name} (under ${dir})`);
        await access(found[0]).catch(() =>
          assert.fail(`folder map: ${found[0]} does not exist`)
        );
        named.add(found[0]);
      }
    }
    const missing = files.filter((f) => !named.has(f));
    assert.deepEqual(missing, [], "add these to the folder map");
  });

  test("every source, test or bench file the docs name exists", async () => {
    for (const page of PAGES) {
      for (
        const [, path] of TEXT.get(page)!.matchAll(
          /`((?:src|tests|bench|scripts|config)\/[\w./-]+\.(?:ts|toml|sh))`/g,
        )
      ) {
        await access(path).catch(() => assert.fail(`${page}: ${path}`));
      }
    }
  });
});

describe("docs: links and wording", () => {
  const pages = [
    ...PAGES,
    "CHANGELOG.md",
    "CONTRIBUTING.md",
    "SECURITY.md",
  ];
  test("every relative link leads to a file, and an #anchor to a heading", async () => {
    for (const page of pages) {
      const text = withoutCode(await readFile(page, "utf8"));
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = m[1];
        if (/^[a-z]+:/.test(link)) continue;
        const [path, anchor] = link.split("#");
        const target = path === "" ? page : join(dirname(page), path);
        await access(target).catch(() =>
          assert.fail(`${page}: ${link}: ${target} does not exist`)
        );
        if (anchor !== undefined && target.endsWith(".md")) {
          const headings = anchors(await readFile(target, "utf8"));
          assert.ok(headings.has(anchor), `${page}: ${link}: no such heading`);
        }
      }
    }
  });

  test("no internal issue numbers in the docs", async () => {
    for (const page of pages) {
      const text = await readFile(page, "utf8");
      const hit = text.match(/\bissues? #?\d+|(?:^|\s)#\d+\b/im);
      assert.ok(hit === null, `${page}: "${hit?.[0]}"`);
    }
  });

  test("shell commands run as printed after npm install (deno and bun through npx or npm)", () => {
    for (const block of ALL.filter((b) => b.lang === "sh")) {
      for (const line of block.text.split("\n")) {
        const command = line.replace(/^(\w+=\S*\s+)+/, "");
        assert.doesNotMatch(
          command,
          /^(deno|bun|hypha)\s/,
          `${
            where(block)
          }: "${line}": use npx deno, npx bun, npm run or ./dist/hypha`,
        );
      }
    }
  });
});

/** The default config's publishes in `text`, and the answers shown. */
function publishes(text: string) {
  const re =
    /curl -X POST http:\/\/127\.0\.0\.1:8080(\S+) \\\n\s+-H 'content-type: application\/json' -d '([^']*)'\n# -> (\d{3} )?(.*)/g;
  return [...text.matchAll(re)].map((m) => ({
    path: m[1],
    body: m[2],
    status: m[3] === undefined ? 202 : Number(m[3]),
    answer: JSON.parse(m[4]),
  }));
}

describe("docs: the default config answers as the docs show", () => {
  test("README quick start: each publish answers as shown and the subscriber sees the block shown", async () => {
    const readme = TEXT.get("README.md")!;
    const subscribeUrl = readme.match(
      /curl -N '(http:\/\/localhost:3002[^']+)'/,
    )
      ?.[1];
    assert.ok(subscribeUrl, "the quick start subscribes with curl -N");
    const shown = ALL.find((b) => b.marker === "output of the quick start");
    assert.ok(shown, "the quick start's output is marked");
    const sent = publishes(readme);
    assert.ok(sent.length >= 3, "the quick start publishes");
    const wire = await runDefault(new URL(subscribeUrl), sent);
    const ids = (s: string) => s.replace(/^id: \d+$/gm, "id: <n>").trim();
    assert.equal(ids(wire), ids(shown.text));
  });

  test("docs pages: each publish to the default config answers as shown", async () => {
    for (const page of PAGES.filter((p) => p !== "README.md")) {
      const sent = publishes(TEXT.get(page)!);
      if (sent.length === 0) continue;
      await runDefault(
        new URL("http://localhost:3002/events?room=orders&user_id=42"),
        sent,
      );
    }
  });
});

/**
 * Starts config/hypha.toml in process, subscribes at `url`, posts `sent`
 * checking each answer, and returns the stream's text once every delivered
 * event arrived.
 */
async function runDefault(
  url: URL,
  sent: ReturnType<typeof publishes>,
): Promise<string> {
  const app = await inProcess(await readFile("config/hypha.toml", "utf8"));
  try {
    const response = await app.call("sse")(url.pathname + url.search);
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let wire = decoder.decode((await reader.read()).value);
    let expected = 0;
    for (const p of sent) {
      const answer = await post(app.call("api"), p.path, p.body);
      assert.deepEqual(
        [answer.status, answer.body],
        [p.status, p.answer],
        `POST ${p.path} ${p.body}`,
      );
      expected += Number(answer.body.delivered ?? 0);
    }
    while (wire.split("\ndata: ").length - 1 < expected) {
      wire += decoder.decode((await reader.read()).value);
    }
    await reader.cancel();
    return wire;
  } finally {
    await app.stop();
  }
}
