/**
 * Shared reads of older events from the stream, for resumes the local cache
 * cannot answer. The stream is read in fixed windows of offsets; all clients
 * that need the same window wait for one read (one stream consumer), and
 * the last few windows read are kept for the clients that come next. So
 * thousands of clients resuming at once open a handful of consumers, not
 * thousands, and each read is bounded.
 *
 * @module
 */

import type { LoggedEvent } from "../core/history/event_log.ts";

/** Events of a range of offsets, as read from the stream. */
export interface StreamWindow {
  /** First offset the stream delivered; above `start` if retention dropped some. */
  readonly first: number;
  /** Last offset the window covers. */
  readonly end: number;
  readonly events: readonly LoggedEvent[];
}

/** Called for each message of a read; returns true to stop reading. */
export type OnStreamMessage = (
  offset: number,
  body: Uint8Array | null,
) => boolean;

/** What the reader needs from the log. */
export interface WindowReaderOptions {
  /** Offsets per window. */
  readonly windowSize: number;
  /** Windows kept after they were read. */
  readonly keep: number;
  readonly timeoutMs: number;
  /**
   * Stream consumers open at once, at most; further reads wait for a turn
   * (and their timeout starts with it), so forged ids cannot open hundreds.
   */
  readonly concurrent: number;
  /** Opens a stream consumer at `from`; resolves with its cancel. */
  open(from: number, onMessage: OnStreamMessage): Promise<() => void>;
  /**
   * The event in a message, or undefined for other records and for a keyed
   * event whose key is in `keys` (the keys this read has met so far).
   */
  toEvent(
    offset: number,
    body: Uint8Array | null,
    keys: Set<string>,
  ): LoggedEvent | undefined;
}

/** Reads windows, sharing each read among everyone who waits for it. */
export interface WindowReader {
  /** The window holding `offset`, read up to `limit` at most. */
  window(offset: number, limit: number): Promise<StreamWindow>;
  /** Stream consumers opened so far. */
  readonly opened: number;
  clear(): void;
}

/** Creates a reader; see the module comment. */
export function createWindowReader(options: WindowReaderOptions): WindowReader {
  const size = options.windowSize;
  // Insertion order is recency order: a hit is deleted and set again.
  const kept = new Map<number, Promise<StreamWindow>>();
  let opened = 0;

  const turns = createTurns(options.concurrent);

  const read = async (start: number, end: number): Promise<StreamWindow> => {
    // A position that is not an offset would reach the broker as a consumer
    // argument it refuses by closing the connection.
    if (!Number.isSafeInteger(start) || start < 0 || !(end >= start)) {
      throw new RangeError(`no stream window from ${start} to ${end}`);
    }
    const release = await turns.take();
    opened++;
    try {
      return await readOnce(start, end);
    } finally {
      release();
    }
  };

  const readOnce = (start: number, end: number): Promise<StreamWindow> =>
    new Promise((resolve, reject) => {
      const events: LoggedEvent[] = [];
      const keys = new Set<string>();
      let first = -1;
      let cancel: (() => void) | undefined;
      let done = false;
      const finish = (error?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        // Settled before the cancel: a cancel that throws must not leave
        // every client of this window waiting for ever.
        if (error) reject(error);
        else resolve({ first, end, events });
        stop(cancel);
      };
      const timer = setTimeout(
        () => finish(new Error(`stream read at ${start} timed out`)),
        options.timeoutMs,
      );
      options.open(start, (offset, body) => {
        if (done) return true;
        if (offset < start) return false;
        if (first < 0) first = offset;
        if (offset <= end) {
          const event = options.toEvent(offset, body, keys);
          if (event !== undefined) events.push(event);
        }
        if (offset >= end) finish();
        return done;
      }).then((c) => {
        cancel = c;
        if (done) stop(c);
      }, (error) => finish(error));
    });

  return {
    window(offset, limit) {
      const key = Math.floor(offset / size);
      const end = Math.min(key * size + size - 1, limit);
      const hit = kept.get(key);
      if (hit !== undefined) {
        kept.delete(key);
        const fresh = hit.then((w) => w.end >= end ? w : read(key * size, end));
        kept.set(key, fresh);
        return fresh;
      }
      const reading = read(key * size, end);
      kept.set(key, reading);
      // A failed read is not kept: the next client tries again.
      reading.catch(() => {
        if (kept.get(key) === reading) kept.delete(key);
      });
      while (kept.size > options.keep) {
        kept.delete(kept.keys().next().value!);
      }
      return reading;
    },
    get opened() {
      return opened;
    },
    clear: () => kept.clear(),
  };
}

/** Ends a read's consumer; its failure changes nothing for the readers. */
function stop(cancel: (() => void) | undefined): void {
  try {
    cancel?.();
  } catch { /* the consumer or its channel is gone already */ }
}

/** At most `n` holders at once; the others wait in arrival order. */
function createTurns(n: number): { take(): Promise<() => void> } {
  let free = n;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next !== undefined) next();
    else free++;
  };
  return {
    take() {
      if (free > 0) {
        free--;
        return Promise.resolve(once(release));
      }
      return new Promise((resolve) =>
        waiting.push(() => resolve(once(release)))
      );
    },
  };
}

function once(f: () => void): () => void {
  let called = false;
  return () => {
    if (!called) {
      called = true;
      f();
    }
  };
}
