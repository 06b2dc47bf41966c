/** The hard-exit timer: a stop that cannot finish still exits, within 5 s. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { rawRequest } from "./support/clients.ts";
import { RUNTIME, startHypha } from "./support/hypha.ts";
import { restExample } from "./support/config_builder.ts";

describe(`hard exit (${RUNTIME})`, () => {
  test("a publish whose body never finishes cannot hold the process: SIGTERM exits 0 by the hard-exit timer", async () => {
    const hypha = await startHypha(restExample());
    const stuck = await rawRequest(
      hypha.urls.api,
      "POST /notify HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
    );
    // The request is being read once the server asked for its body.
    await new Promise((r) => setTimeout(r, 100));
    const code = await hypha.stop("SIGTERM");
    stuck.close();
    assert.equal(code, 0);
    assert.ok(
      hypha.lines.some((l) => /WARN\s+shutdown took too long; exiting/.test(l)),
      hypha.lines.join("\n"),
    );
  });
});
