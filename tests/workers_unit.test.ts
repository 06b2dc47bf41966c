/**
 * `[service] workers`: what the config accepts and how many delivery
 * threads it means on a machine (the threads themselves are tested end to
 * end with workers = 2 in the delivery, hub, limits and presence tests).
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseConfig } from "../src/config/load.ts";
import { createLogger } from "../src/core/log.ts";
import { deliveryThreads } from "../src/workers/count.ts";
import type { ThreadPort } from "../src/workers/protocol.ts";
import { errorOf, SSE } from "./support/config_errors.ts";

const service = (value: string) => `[service]\nworkers = ${value}\n${SSE}`;

/** deliveryThreads on a machine, with the lines it logs. */
function threadsOn(workers: number | "auto", os: string, cores: number) {
  const lines: string[] = [];
  const log = createLogger((line) => lines.push(line), "info");
  const spawn = () => ({}) as ThreadPort;
  const threads = deliveryThreads(
    workers,
    { os, cores, spawn },
    "hypha.toml",
    {},
    log,
  );
  return { count: threads?.count, lines };
}

describe("service.workers", () => {
  test('defaults to 1 and takes a count or "auto"', () => {
    const parse = (text: string) =>
      parseConfig(text, "hypha.toml", {}).config.service.workers;
    assert.equal(parse(SSE), 1);
    assert.equal(parse(service("4")), 4);
    assert.equal(parse(service('"auto"')), "auto");
  });

  test("0, a fraction or another word is refused, naming service.workers", () => {
    for (const bad of ["0", "1.5", '"all"']) {
      assert.match(errorOf(service(bad)), /service\.workers/);
    }
  });

  test("1 starts no thread and logs nothing", () => {
    assert.deepEqual(threadsOn(1, "linux", 16), {
      count: undefined,
      lines: [],
    });
  });

  test('"auto" is one thread per core; one core means none', () => {
    assert.equal(threadsOn("auto", "linux", 16).count, 16);
    assert.equal(threadsOn("auto", "linux", 1).count, undefined);
  });

  test("where a port cannot be shared between threads, hypha says so and runs one", () => {
    const { count, lines } = threadsOn(4, "darwin", 8);
    assert.equal(count, undefined);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /WARN .*SO_REUSEPORT, Linux.*serving on one thread/);
    assert.match(lines[0], /os=darwin/);
  });
});
