/**
 * Waiting for something with a deadline, for the broker handshakes of a
 * cluster (a marker record coming back on the tail).
 *
 * @module
 */

/** Resolves with `promise`, or rejects saying `what` did not come in time. */
export function waitFor<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: not within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
