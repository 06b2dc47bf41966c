/**
 * A Mercure update as a publisher (the POST form) or a flow gives it, checked
 * once by the rules both share: topics present and bounded, an id that can
 * be an SSE `id` and does not start with `#`, a usable type, retry as ms.
 *
 * @module
 */

import { type Audience } from "../history/audience.ts";
import { eventNameProblem, isFieldValue } from "../hub/field.ts";
import type { Appended } from "../history/event_log.ts";
import type { Hub } from "../hub/hub.ts";

/** What a publisher sends. */
export interface MercureUpdate {
  readonly topics: readonly string[];
  readonly data: string;
  readonly private: boolean;
  readonly id?: string;
  readonly type?: string;
  readonly retry?: number;
}

/** Most topics one update may carry. */
export const MAX_UPDATE_TOPICS = 64;
/** Longest topic or id, in UTF-16 units (IRIs are long, not unbounded). */
export const MAX_TOPIC_LENGTH = 2048;

/** Why `update` cannot be published, or undefined when it can. */
export function updateProblem(update: MercureUpdate): string | undefined {
  const { topics, id, type, retry } = update;
  if (topics.length === 0) return "missing topic";
  if (topics.length > MAX_UPDATE_TOPICS) {
    return `too many topics: at most ${MAX_UPDATE_TOPICS} per update`;
  }
  for (const topic of topics) {
    if (topic.length > MAX_TOPIC_LENGTH) {
      return `topic is longer than ${MAX_TOPIC_LENGTH} characters`;
    }
  }
  if (id !== undefined) {
    if (id === "") return "id is empty";
    if (id.startsWith("#")) return "id must not start with #";
    if (!isFieldValue(id)) return "id cannot contain CR, LF or NUL";
    if (id.length > MAX_TOPIC_LENGTH) {
      return `id is longer than ${MAX_TOPIC_LENGTH} characters`;
    }
  }
  if (type !== undefined) {
    const problem = eventNameProblem(type);
    if (problem !== undefined) return `type ${problem}`;
  }
  if (retry !== undefined && (!Number.isSafeInteger(retry) || retry < 0)) {
    return "retry must be a number of milliseconds";
  }
  return undefined;
}

/** Parses a `retry` field: ASCII digits only, as SSE clients read it. */
export function parseRetry(text: string): number | undefined {
  return /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}

/** A fresh update id, as the reference hub makes them. */
export function newUpdateId(): string {
  return `urn:uuid:${crypto.randomUUID()}`;
}

/** Appends a checked update to `hub`; resolves with its id. */
export function publishUpdate(
  hub: Hub,
  update: MercureUpdate,
  key?: string,
): Appended | Promise<Appended> {
  const audience: Audience = {
    kind: "topics",
    names: update.topics,
    private: update.private,
  };
  return hub.publish(audience, update.type ?? "message", update.data, key, {
    id: update.id ?? newUpdateId(),
    retry: update.retry,
  });
}
