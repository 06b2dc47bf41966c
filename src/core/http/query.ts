/**
 * Parses a subscriber's query string: `room`, `rooms` (comma list),
 * `user_id` and `last_event_id`. Pure and total: any input yields either a
 * subscription or a reason fit for a 400 response.
 *
 * @module
 */

/** Limits on what one connection may ask for. */
export interface QueryLimits {
  readonly maxRooms: number;
  readonly maxNameBytes: number;
  readonly maxQueryBytes: number;
}

/**
 * Default limits: generous for apps, small enough to bound memory per
 * connection. `maxNameBytes` is also what a publish target is held to
 * (flows, config, token subjects use checkName with these limits), so a
 * message is never sent to a name no subscriber could join.
 */
export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxRooms: 64,
  maxNameBytes: 128,
  maxQueryBytes: 8192,
};

/** What a valid query asks for. */
export interface SubscriberQuery {
  readonly rooms: ReadonlySet<string>;
  readonly userId: string | undefined;
  readonly lastEventId: string | undefined;
  readonly token: string | undefined;
}

/** A query that cannot be served, with the reason for the client. */
export interface QueryError {
  readonly error: string;
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const encoder = new TextEncoder();

/** Checks one room or user name; returns a reason or undefined. */
export function checkName(
  kind: string,
  name: string,
  limits: QueryLimits,
): string | undefined {
  if (CONTROL.test(name)) return `${kind} name contains a control character`;
  // A UTF-16 unit is 1 to 3 UTF-8 bytes: encode only when length can't tell.
  const max = limits.maxNameBytes;
  if (
    name.length > max ||
    (name.length * 3 > max && encoder.encode(name).byteLength > max)
  ) return `${kind} name is longer than ${max} bytes`;
  return undefined;
}

/** The keys that may appear at most once, in the order they are checked. */
const SINGLE_KEYS = ["user_id", "last_event_id", "token"];

/** What a subscriber without a query asks for (most broadcast clients). */
const NO_QUERY: SubscriberQuery = {
  rooms: new Set(),
  userId: undefined,
  lastEventId: undefined,
  token: undefined,
};

/** Parses `search` (with or without the leading `?`). */
export function parseSubscriberQuery(
  search: string,
  limits: QueryLimits = DEFAULT_QUERY_LIMITS,
): SubscriberQuery | QueryError {
  if (search.length > limits.maxQueryBytes) {
    return {
      error: `query string is longer than ${limits.maxQueryBytes} bytes`,
    };
  }
  if (search === "" || search === "?") return NO_QUERY;
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(search);
  } catch {
    return { error: "query string is not valid" };
  }
  // One pass over the parameters: `room` values, then `rooms` lists.
  const candidates: string[] = [];
  const lists: string[] = [];
  const values: Record<string, string | undefined> = {};
  const seen: Record<string, number> = {};
  for (const [key, value] of params) {
    if (key === "room") candidates.push(value);
    else if (key === "rooms") lists.push(value);
    else if (SINGLE_KEYS.includes(key)) {
      seen[key] = (seen[key] ?? 0) + 1;
      values[key] ??= value;
    }
  }
  for (const list of lists) candidates.push(...list.split(","));
  const rooms = new Set<string>();
  for (const raw of candidates) {
    const room = raw.trim();
    if (room === "") continue;
    const problem = checkName("room", room, limits);
    if (problem) return { error: problem };
    rooms.add(room);
    if (rooms.size > limits.maxRooms) {
      return {
        error: `too many rooms: at most ${limits.maxRooms} per connection`,
      };
    }
  }
  const repeated = SINGLE_KEYS.find((key) => (seen[key] ?? 0) > 1);
  if (repeated !== undefined) {
    return { error: `${repeated} is given more than once` };
  }
  let userId = values.user_id?.trim();
  if (userId === "") userId = undefined;
  if (userId !== undefined) {
    const problem = checkName("user_id", userId, limits);
    if (problem) return { error: problem };
  }
  return {
    rooms,
    userId,
    lastEventId: values.last_event_id,
    token: values.token,
  };
}
