import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { LoggedEvent } from "../src/core/history/event_log.ts";
import {
  createWindowReader,
  type OnStreamMessage,
  type WindowReaderOptions,
} from "../src/cluster/window_reader.ts";

/**
 * The window reader in process, with a stream of `length` offsets served
 * from memory: each open answers on the next turn, unless `hold` keeps it.
 */
function reader(
  overrides: Partial<WindowReaderOptions> & { hold?: boolean } = {},
  length = 10_000,
) {
  const state = { open: 0, most: 0, opened: [] as number[] };
  const held: (() => void)[] = [];
  const options: WindowReaderOptions = {
    windowSize: 100,
    keep: 4,
    timeoutMs: 5_000,
    concurrent: 2,
    open(from: number, onMessage: OnStreamMessage) {
      state.opened.push(from);
      state.open++;
      state.most = Math.max(state.most, state.open);
      const run = () => {
        for (let o = from; o < length; o++) if (onMessage(o, null)) break;
      };
      if (overrides.hold) held.push(run);
      else setTimeout(run, 1);
      return Promise.resolve(() => void state.open--);
    },
    toEvent: (offset) =>
      ({ position: offset, id: String(offset) }) as unknown as LoggedEvent,
    ...overrides,
  };
  return { windows: createWindowReader(options), state, held };
}

describe("window reader", () => {
  test("twenty resumes into twenty windows open at most `concurrent` consumers at once, and each gets its window", async () => {
    const { windows, state } = reader();
    const starts = Array.from({ length: 20 }, (_, i) => i * 100 + 7);
    const got = await Promise.all(starts.map((s) => windows.window(s, 9_999)));
    assert.equal(state.most, 2);
    assert.equal(windows.opened, 20);
    got.forEach((w, i) => {
      assert.equal(w.first, i * 100);
      assert.equal(w.end, i * 100 + 99);
      assert.equal(w.events.length, 100);
    });
  });

  test("a cancel that throws still answers every reader of the window, and frees its turn", async () => {
    const { windows } = reader({
      concurrent: 1,
      open(from, onMessage) {
        setTimeout(() => {
          for (let o = from; o < from + 200; o++) if (onMessage(o, null)) break;
        }, 1);
        return Promise.resolve(() => {
          throw new TypeError("consumer tag undefined");
        });
      },
    });
    const [a, b] = await Promise.all([
      windows.window(0, 1_000),
      windows.window(5, 1_000),
    ]);
    assert.equal(a, b);
    assert.equal(a.events.length, 100);
    const next = await windows.window(150, 1_000);
    assert.equal(next.first, 100);
  });

  test("a read that times out rejects its readers, frees its turn, and the next reader of that window reads again", async () => {
    const { windows, held } = reader({ hold: true, timeoutMs: 50 });
    await assert.rejects(windows.window(0, 1_000), /timed out/);
    held.length = 0;
    const again = windows.window(0, 1_000);
    await new Promise((r) => setTimeout(r, 5));
    held.forEach((run) => run());
    assert.equal((await again).events.length, 100);
  });

  test("a position that is not an offset is refused before anything is opened", async () => {
    const { windows, state } = reader();
    await assert.rejects(windows.window(-Infinity, 1_000), RangeError);
    await assert.rejects(windows.window(Number.NaN, 1_000), RangeError);
    assert.deepEqual(state.opened, []);
  });

  test("offsets before the window's start that the broker sends anyway are skipped", async () => {
    const { windows } = reader({
      open(from, onMessage) {
        // A stream consumer may start at the chunk holding `from`.
        setTimeout(() => {
          for (let o = from - 30; o < from + 200; o++) {
            if (onMessage(o, null)) break;
          }
        }, 1);
        return Promise.resolve(() => {});
      },
    });
    const w = await windows.window(250, 1_000);
    assert.equal(w.first, 200);
    assert.equal(w.events[0].position, 200);
  });
});
