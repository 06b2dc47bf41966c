import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "../src/core/log.ts";

/** The one line `createLogger` writes for `message` and `fields`. */
function line(
  format: "text" | "json",
  message: string,
  fields: Record<string, string | number>,
): string {
  const lines: string[] = [];
  createLogger((l) => lines.push(l), "info", format).warn(message, fields);
  assert.equal(lines.length, 1);
  return lines[0];
}

/** A line without its timestamp. */
const untimed = (text: string) => text.replace(/^\S+ /, "");

describe("log lines", () => {
  test("text format: ESC, CR, LF, DEL, C1 controls, U+2028 and U+2029 in a field are escaped inside quotes", () => {
    const key = "feed.\x1b[2J\r\nINFO forged\x7f\x9b\u0085\u2028\u2029";
    assert.equal(
      untimed(line("text", "rejected message", { routing_key: key })),
      'WARN  rejected message routing_key="feed.\\u001b[2J\\r\\nINFO forged\\u007f\\u009b\\u0085\\u2028\\u2029"',
    );
  });

  test("text format: a message with control characters is escaped; plain values stay bare", () => {
    assert.equal(
      untimed(line("text", "bad\x1b]0;title\x07 name", { n: 3, a: "x\\y" })),
      "WARN  bad\\u001b]0;title\\u0007 name n=3 a=x\\y",
    );
  });

  test("json format: U+2028, U+2029, U+0085, DEL and C1 are escaped, and the line parses back to the same values", () => {
    const value = "a\u2028b\u2029c\u0085d\x7fe\x9bf\x1bg\nh";
    const text = line("json", "m\u2028", { value });
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(text, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    assert.match(
      text,
      /"msg":"m\\u2028","value":"a\\u2028b\\u2029c\\u0085d\\u007fe\\u009bf\\u001bg\\nh"/,
    );
    const parsed = JSON.parse(text);
    assert.equal(parsed.value, value);
    assert.equal(parsed.msg, "m\u2028");
  });
});
