import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pathOf } from "../src/core/http/http.ts";

describe("pathOf", () => {
  test("gives the pathname new URL() gives, for URLs a runtime hands over", () => {
    const urls = [
      "http://localhost:3001/notify",
      "http://localhost:3001/notify/orders?x=1&y=2",
      "http://127.0.0.1/notify/a%20b#frag",
      "http://[::1]:3001/rooms/r1?",
      "https://hub.example.com/",
      "http://h/a/../b/./c",
      "http://h/?q=/not/the/path",
      "http://h/p#x?y",
    ].map((u) => new Request(u).url);
    for (const url of urls) {
      assert.equal(pathOf(url), new URL(url).pathname, url);
    }
  });
});
