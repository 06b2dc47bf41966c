/**
 * hypha's own accept loop for Deno. Deno.serve's loop ends for good on the
 * first failed accept (Deno 2.9: out of file descriptors, EMFILE, rejects
 * its `finished` and the port answers nobody again), so every Deno
 * listener accepts here: a failed accept is retried after a pause that
 * grows a little, and the listener is told when accepting fails and when
 * it works again (logs, /readyz).
 *
 * @module
 */

/** First pause after a failed accept; it grows by half up to the most. */
const RETRY_FIRST_MS = 100;
const RETRY_MOST_MS = 1_000;
/**
 * After failures, an accept that waits this long without failing means the
 * backlog is empty: no client is being refused any more. Without it, a
 * listener nobody connects to again would stay "not accepting" forever.
 */
const QUIET_MS = 1_000;

/** What the loop reports, and how it knows it should end. */
export interface AcceptHooks {
  /** True once the listener is being closed: a failed accept then ends it. */
  readonly stopping: () => boolean;
  /** An accept failed; the loop retries after a pause. */
  readonly onError?: (error: unknown) => void;
  /** Accepting works again after failures. */
  readonly onRecovered?: () => void;
  /**
   * Serving one accepted connection failed; it is closed and the loop
   * goes on: one bad connection must not stop every later one.
   */
  readonly onConnectionError?: (error: unknown) => void;
}

/**
 * Accepts connections from `tcp` and hands each to `take` (which may make
 * the loop wait, e.g. for room); resolves once `stopping()` and the
 * listener is closed.
 */
export async function acceptLoop(
  tcp: Deno.Listener,
  take: (conn: Deno.Conn) => Promise<void> | undefined,
  hooks: AcceptHooks,
): Promise<void> {
  let pause = 0;
  const recovered = () => {
    if (pause === 0) return;
    pause = 0;
    hooks.onRecovered?.();
  };
  while (!hooks.stopping()) {
    // A timer only while failing: none per connection otherwise.
    const quiet = pause > 0 ? setTimeout(recovered, QUIET_MS) : undefined;
    let conn: Deno.Conn;
    try {
      conn = await tcp.accept();
    } catch (error) {
      if (hooks.stopping()) return;
      clearTimeout(quiet);
      pause = Math.min(RETRY_MOST_MS, pause * 1.5 || RETRY_FIRST_MS);
      hooks.onError?.(error);
      await new Promise((resolve) => setTimeout(resolve, pause));
      continue;
    }
    clearTimeout(quiet);
    recovered();
    try {
      const waiting = take(conn);
      if (waiting !== undefined) await waiting;
    } catch (error) {
      try {
        conn.close();
      } catch { /* already closed by the failed server */ }
      hooks.onConnectionError?.(error);
    }
  }
}
