/**
 * Timers that may be longer than a runtime timer can hold. `setTimeout`
 * stores its delay as a signed 32-bit number of milliseconds (browsers, Deno
 * 2.9, Bun 1.4, Node): anything above 2^31 - 1 ms (~24.8 days) fires at once.
 * A token `exp` a year away or `max_lifetime = "720h"` must not, so a long
 * delay is chained through several timers of at most that length.
 *
 * @module
 */

/** The longest delay one `setTimeout` holds: 2^31 - 1 ms, ~24.8 days. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A running long timer; pass it to {@link clearLongTimeout}. */
export interface LongTimeout {
  timer: ReturnType<typeof setTimeout> | undefined;
  cleared: boolean;
}

/** Arms `handle` to call `callback` at `due`, one timer of at most the max at a time. */
function arm(
  handle: LongTimeout,
  callback: () => void,
  due: number,
  now: () => number,
): void {
  const left = due - now();
  if (left > MAX_TIMER_MS) {
    handle.timer = setTimeout(
      () => arm(handle, callback, due, now),
      MAX_TIMER_MS,
    );
    return;
  }
  handle.timer = setTimeout(() => {
    handle.timer = undefined;
    if (!handle.cleared) callback();
  }, Math.max(0, left));
}

/** Calls `callback` once after `delayMs` (any length; negative means now). */
export function setLongTimeout(
  callback: () => void,
  delayMs: number,
  now: () => number = Date.now,
): LongTimeout {
  const handle: LongTimeout = { timer: undefined, cleared: false };
  arm(handle, callback, now() + Math.max(0, delayMs), now);
  return handle;
}

/**
 * Calls `callback` every `intervalMs` (any length) until cleared. A period
 * beyond what a timer holds neither fires at once nor floods.
 */
export function setLongInterval(
  callback: () => void,
  intervalMs: number,
  now: () => number = Date.now,
): LongTimeout {
  const handle: LongTimeout = { timer: undefined, cleared: false };
  const period = Math.max(1, intervalMs);
  const tick = () => {
    arm(handle, tick, now() + period, now);
    callback();
  };
  arm(handle, tick, now() + period, now);
  return handle;
}

/** Cancels a long timeout or interval; idempotent. */
export function clearLongTimeout(handle: LongTimeout | undefined): void {
  if (handle === undefined) return;
  handle.cleared = true;
  if (handle.timer !== undefined) clearTimeout(handle.timer);
  handle.timer = undefined;
}
