/**
 * Bounds the calls in flight to one backend: past `max`, a caller waits
 * (first come, first served) for a call to end, at most `waitMs`, then
 * gets "busy" instead of adding to the backend's load.
 *
 * @module
 */

/** Runs `task` when a place is free; "busy" if none frees up in time. */
export type CallLimit = <T>(task: () => Promise<T>) => Promise<T | "busy">;

/** Creates a limit of `max` calls in flight. */
export function createCallLimit(max: number, waitMs: number): CallLimit {
  let running = 0;
  // A Set keeps insertion order (the queue) and deletes a waiter that gave
  // up in O(1).
  const waiting = new Set<() => void>();

  const release = () => {
    const next = waiting.values().next();
    if (next.done) {
      running--;
      return;
    }
    // The place passes on: `running` stays as it is.
    waiting.delete(next.value);
    next.value();
  };

  const place = (): Promise<boolean> => {
    if (running < max) {
      running++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const granted = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        waiting.delete(granted);
        resolve(false);
      }, waitMs);
      waiting.add(granted);
    });
  };

  return async (task) => {
    if (!await place()) return "busy";
    try {
      return await task();
    } finally {
      release();
    }
  };
}
