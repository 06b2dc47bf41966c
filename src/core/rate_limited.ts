/**
 * Rate-limited log lines: one line per key per window, then the count of
 * the rest, so a flood stays readable and the logged counts add up to what
 * was counted. `flush()` at stop logs every open window's count at once and
 * leaves no timer behind (a count in a window that outlived the process was
 * lost).
 *
 * @module
 */

/** A rate-limited logger of one owner (a connector, a source). */
export interface RateLimited {
  /** Calls `log(0)` now, or counts the call for its window's end. */
  (key: string, log: (suppressed: number) => void): void;
  /** Logs what every open window counted, now, and clears their timers. */
  flush(): void;
}

/**
 * Calls `log(0)` at most once per `intervalMs` for a key. Calls in between
 * are counted, and when the window ends `log(n)` reports the `n` that were
 * not logged (with the arguments of the latest).
 */
export function rateLimited(
  intervalMs: number,
  now: () => number = Date.now,
): RateLimited {
  interface Window {
    at: number;
    suppressed: number;
    latest: (suppressed: number) => void;
    timer: ReturnType<typeof setTimeout> | undefined;
  }
  const windows = new Map<string, Window>();
  const close = (key: string, window: Window) => {
    clearTimeout(window.timer);
    window.timer = undefined;
    if (windows.get(key) === window) windows.delete(key);
    if (window.suppressed > 0) window.latest(window.suppressed);
  };
  const flush = () => {
    for (const [key, window] of windows) close(key, window);
  };
  const limited = (key: string, log: (suppressed: number) => void) => {
    const t = now();
    const window = windows.get(key);
    if (window !== undefined && t - window.at < intervalMs) {
      window.suppressed++;
      window.latest = log;
      window.timer ??= setTimeout(
        () => close(key, window),
        window.at + intervalMs - t,
      );
      return;
    }
    if (window !== undefined) close(key, window);
    // Keys are codes and connector names; the bound is a guard, not a cache.
    if (windows.size > 1000) flush();
    windows.set(key, { at: t, suppressed: 0, latest: log, timer: undefined });
    log(0);
  };
  return Object.assign(limited, { flush });
}
