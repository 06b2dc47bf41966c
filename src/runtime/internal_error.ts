/**
 * The answer both runtimes give when a fetch handler throws: a bare 500 (the
 * error itself goes to the log through `Listener.onError`, never to clients).
 *
 * @module
 */

import {
  internalError as answer500,
  type Listener,
} from "../core/http/http.ts";

/** Reports `error` to the listener and returns the 500 for the client. */
export function internalError(listener: Listener, error: unknown): Response {
  try {
    listener.onError?.(error);
  } catch { /* a failing log must not turn a 500 into a crash */ }
  return answer500();
}
