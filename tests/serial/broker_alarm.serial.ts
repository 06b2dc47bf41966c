/**
 * A memory alarm on the broker (`rabbitmqctl set_vm_memory_high_watermark`)
 * under a cluster instance. It blocks every publisher on the shared broker,
 * so it is not a `*.test.ts` file: scripts/test.sh runs it alone.
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, test } from "node:test";
import {
  cleanupCluster,
  clusterNames,
  publishN,
  startInstance,
} from "../support/cluster.ts";
import { adminUrl, type Hypha, publish, RUNTIME } from "../support/hypha.ts";

const exec = promisify(execFile);
const rabbitmqctl = (...args: string[]) =>
  exec("rabbitmqctl", args, { timeout: 60_000 });

describe(`cluster under a broker memory alarm (${RUNTIME})`, () => {
  test("publishing blocked: the instance logs it, /readyz says why, appends answer 503 at once; lifted: 202 and ready again", async () => {
    const names = clusterNames();
    let instance: Hypha | undefined;
    let alarm = false;
    try {
      instance = await startInstance(names, RUNTIME);
      await publishN(instance, 1);
      await rabbitmqctl("set_vm_memory_high_watermark", "absolute", "1");
      alarm = true;
      // The broker blocks a connection on its next publish: this one is in
      // flight when the block comes, and must not wait out the append timeout.
      const started = Date.now();
      const first = await publish(new URL("/notify", instance.urls.api).href, {
        n: 2,
      });
      assert.equal(first.status, 503);
      assert.ok(
        Date.now() - started < 10_000,
        "an append in flight when the broker blocks is refused at once",
      );
      await instance.waitForLine(
        /WARN\s+the broker blocks publishing; appends answer 503 .*reason=/,
      );
      const ready = await fetch(adminUrl(instance, "/readyz"));
      assert.equal(ready.status, 503);
      assert.match(await ready.text(), /sse: the broker blocks publishing \(/);
      const refused = await publish(
        new URL("/notify", instance.urls.api).href,
        { n: 3 },
      );
      assert.equal(refused.status, 503);

      await rabbitmqctl("set_vm_memory_high_watermark", "0.4");
      alarm = false;
      await instance.waitForLine(/INFO\s+the broker takes appends again/);
      const back = await fetch(adminUrl(instance, "/readyz"));
      assert.equal(back.status, 200);
      await back.body?.cancel();
      await publishN(instance, 4);
    } finally {
      if (alarm) await rabbitmqctl("set_vm_memory_high_watermark", "0.4");
      await instance?.stop();
      await cleanupCluster(names);
    }
  });
});
