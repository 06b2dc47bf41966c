/**
 * A sleep that `wake` ends early: the reconnect backoff waits with it, and
 * a stop must not wait for the backoff to run out.
 *
 * @module
 */

/** One pause at a time; `wake` is a no-op when none is running. */
export interface Pause {
  sleep(ms: number): Promise<void>;
  wake(): void;
}

/** Creates an idle pause. */
export function createPause(): Pause {
  let wake: (() => void) | undefined;
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, ms);
        wake = done;
      }),
    wake: () => wake?.(),
  };
}
