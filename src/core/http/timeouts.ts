/**
 * Many timeouts of one length on one timer. Deadlines of equal length fall
 * in the order they were set, so they are kept in insertion order and only
 * the earliest has a timer. Deno 2.9's `setTimeout` builds a Node `Timeout`
 * (~8 µs each, measured): one per connection was a large part of what a
 * connection cost hypha on Deno (bench/compare.ts, connects per second).
 *
 * @module
 */

/** Timeouts of one length, by key. */
export interface Timeouts<K> {
  /** (Re)starts the timeout of `key`. */
  set(key: K): void;
  /** Cancels the timeout of `key`; idempotent. */
  clear(key: K): void;
  /** Cancels every timeout and the timer (at shutdown). */
  close(): void;
}

/** Calls `onTimeout(key)` `ms` after `set(key)`, unless cleared first. */
export function createTimeouts<K>(
  ms: number,
  onTimeout: (key: K) => void,
  now: () => number = () => performance.now(),
): Timeouts<K> {
  /** Deadline by key, earliest first. */
  const due = new Map<K, number>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** While expired keys are handled; the timer is armed after them. */
  let firing = false;

  const arm = (at: number) => {
    timer = setTimeout(fire, Math.max(0, at - now()));
  };

  function fire() {
    timer = undefined;
    firing = true;
    const at = now();
    try {
      for (const [key, deadline] of due) {
        if (deadline > at) break;
        due.delete(key);
        onTimeout(key);
      }
    } finally {
      // Also when a callback threw: the other keys must still time out.
      firing = false;
      const next = due.values().next();
      if (!next.done) arm(next.value);
    }
  }

  return {
    set(key) {
      due.delete(key);
      due.set(key, now() + ms);
      if (timer === undefined && !firing) arm(now() + ms);
    },
    clear(key) {
      // The timer stays: one that fires with nothing due just stops. Clearing
      // it here would arm and clear a timer per request when requests come
      // one after the other (+45 µs of CPU per REST publish on Deno 2.9).
      due.delete(key);
    },
    close() {
      clearTimeout(timer);
      timer = undefined;
      due.clear();
    },
  };
}
