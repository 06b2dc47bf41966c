import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import {
  encodeComment,
  encodeEvent,
  encodeRetry,
  formatEvent,
  HEARTBEAT,
} from "../src/core/hub/sse.ts";

/** Parses wire text with an independent SSE parser. */
function parse(
  wire: string,
): { events: EventSourceMessage[]; retry: number[]; comments: string[] } {
  const events: EventSourceMessage[] = [];
  const retry: number[] = [];
  const comments: string[] = [];
  const parser = createParser({
    onEvent: (e) => events.push(e),
    onRetry: (ms) => retry.push(ms),
    onComment: (c) => comments.push(c),
  });
  parser.feed(wire);
  return { events, retry, comments };
}

describe("sse encoder", () => {
  test("formatEvent writes id, event and data, then a blank line", () => {
    assert.equal(
      formatEvent({ id: "7", event: "message", data: '{"a":1}' }),
      'id: 7\nevent: message\ndata: {"a":1}\n\n',
    );
  });

  test("formatEvent splits data on CR, LF and CRLF into several data lines", () => {
    const wire = formatEvent({ event: "x", data: "a\rb\nc\r\nd" });
    assert.equal(wire, "event: x\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
    // A parser joins data lines with LF: CR and CRLF become LF, nothing else is lost.
    assert.deepEqual(parse(wire).events, [{
      id: undefined,
      event: "x",
      data: "a\nb\nc\nd",
    }]);
  });

  const payloads = [
    "",
    "plain",
    '{"emoji":"🎉","cjk":"漢字","rtl":"שלום"}',
    "trailing newline\n",
    "\n\nleading",
    "a\r\n\r\nb",
    "colon: inside",
    " leading space",
    "\u2028line separator is not a line break",
  ];
  for (const data of payloads) {
    test(`encodeEvent round-trips ${JSON.stringify(data).slice(0, 40)} through an independent parser`, () => {
      const bytes = encodeEvent({ id: "42", event: "message", data });
      const { events } = parse(new TextDecoder().decode(bytes));
      assert.equal(events.length, 1);
      assert.equal(events[0].id, "42");
      assert.equal(events[0].event, "message");
      assert.equal(events[0].data, data.replace(/\r\n|\r/g, "\n"));
    });
  }

  test("event and id cannot contain CR, LF or NUL", () => {
    assert.throws(() => formatEvent({ event: "a\nb", data: "" }), {
      name: "TypeError",
      message: "Cannot serialize event: `event` cannot contain CR, LF or NUL",
    });
    assert.throws(() => formatEvent({ id: "1\r", data: "" }), TypeError);
    assert.throws(() => formatEvent({ id: "1\0", data: "" }), TypeError);
  });

  test("encodeRetry writes ASCII digits and is parsed as a reconnection time", () => {
    const wire = new TextDecoder().decode(encodeRetry(3000));
    assert.equal(wire, "retry: 3000\n\n");
    assert.deepEqual(parse(wire).retry, [3000]);
    assert.throws(() => encodeRetry(-1), RangeError);
    assert.throws(() => encodeRetry(1.5), RangeError);
  });

  test("the heartbeat is the comment `: keepalive`", () => {
    assert.equal(new TextDecoder().decode(HEARTBEAT), ": keepalive\n\n");
    assert.deepEqual(parse(new TextDecoder().decode(HEARTBEAT)).comments, [
      "keepalive",
    ]);
    assert.equal(new TextDecoder().decode(encodeComment("hi")), ": hi\n\n");
  });
});
