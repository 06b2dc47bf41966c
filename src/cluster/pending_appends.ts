/**
 * Appends on their way through the stream. An append is done when this
 * instance's own tail consumer delivers it (AMQP confirms do not carry the
 * stream offset, so the id is only known then); it fails when the publish
 * is not confirmed, or when the connection drops before the confirm came.
 * A confirmed append whose connection dropped is kept: the re-attached tail
 * will deliver it.
 *
 * @module
 */

import type { Appended } from "../core/history/event_log.ts";
import { LogUnavailableError } from "./unavailable.ts";

interface Entry {
  resolve(appended: Appended): void;
  reject(error: Error): void;
  confirmed: boolean;
  timer: ReturnType<typeof setTimeout>;
}

/** The appends this instance published and has not seen on its tail yet. */
export interface PendingAppends {
  /** Registers a publish under its message-id; settles as said above. */
  add(messageId: string): Promise<Appended>;
  confirmed(messageId: string): void;
  failed(messageId: string, reason: string): void;
  /** The tail delivered `messageId`; true when it was one of ours. */
  seen(messageId: string, appended: Appended): boolean;
  /** The connection is gone: unconfirmed appends fail. */
  detached(reason: string): void;
  /** Fails everything (shutdown). */
  clear(reason: string): void;
  readonly size: number;
}

/** Creates the registry; an append not seen within `timeoutMs` fails. */
export function createPendingAppends(timeoutMs: number): PendingAppends {
  const entries = new Map<string, Entry>();

  const fail = (messageId: string, reason: string) => {
    const entry = entries.get(messageId);
    if (entry === undefined) return;
    entries.delete(messageId);
    clearTimeout(entry.timer);
    entry.reject(new LogUnavailableError(reason));
  };

  return {
    add(messageId) {
      return new Promise<Appended>((resolve, reject) => {
        const timer = setTimeout(
          () => fail(messageId, `not on the stream within ${timeoutMs} ms`),
          timeoutMs,
        );
        entries.set(messageId, { resolve, reject, confirmed: false, timer });
      });
    },
    confirmed(messageId) {
      const entry = entries.get(messageId);
      if (entry !== undefined) entry.confirmed = true;
    },
    failed: fail,
    seen(messageId, appended) {
      const entry = entries.get(messageId);
      if (entry === undefined) return false;
      entries.delete(messageId);
      clearTimeout(entry.timer);
      entry.resolve(appended);
      return true;
    },
    detached(reason) {
      for (const [id, entry] of [...entries]) {
        if (!entry.confirmed) fail(id, `publish not confirmed: ${reason}`);
      }
    },
    clear(reason) {
      for (const id of [...entries.keys()]) fail(id, reason);
    },
    get size() {
      return entries.size;
    },
  };
}
