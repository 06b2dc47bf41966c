/**
 * A sleep that `wake` ends early: the reconnect backoff waits with it, and
 * a stop must not wait for the backoff to run out.
 *
 * @module
 */

import { clearLongTimeout, setLongTimeout } from "../core/long_timer.ts";

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
          clearLongTimeout(timer);
          wake = undefined;
          resolve();
        };
        // Long: reconnect_delay may exceed what one setTimeout holds.
        const timer = setLongTimeout(done, ms);
        wake = done;
      }),
    wake: () => wake?.(),
  };
}
