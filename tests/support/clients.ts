/**
 * Real clients for tests: an EventSource-compliant client (npm `eventsource`)
 * that records what it receives, and a raw TCP client for edge cases.
 */

import { EventSource } from "eventsource";
import { connect, type Socket } from "node:net";

/** An event as the client saw it. */
export interface Received {
  readonly type: string;
  readonly data: string;
  readonly lastEventId: string;
}

/** A recording EventSource. */
export interface Subscriber {
  readonly events: Received[];
  readonly source: EventSource;
  /** Resolves once `count` events (of `type`, if given) have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  /** Resolves when the connection is open. */
  readonly opened: Promise<void>;
  close(): void;
}

/** Opens an EventSource on `url` and records `message` and the given types. */
export function subscribe(
  url: string,
  options: {
    types?: string[];
    headers?: Record<string, string>;
    /** Where requests go (an in-process listener); the network by default. */
    fetch?: typeof fetch;
  } = {},
): Subscriber {
  const headers = options.headers;
  const send = options.fetch ?? fetch;
  const source = new EventSource(url, {
    fetch: headers || options.fetch
      ? (input, init) =>
        send(input, { ...init, headers: { ...init.headers, ...headers } })
      : undefined,
  });
  const events: Received[] = [];
  const listeners = new Set<() => void>();
  const record = (event: MessageEvent) => {
    events.push({
      type: event.type,
      data: event.data,
      lastEventId: event.lastEventId,
    });
    for (const l of listeners) l();
  };
  for (const type of ["message", ...(options.types ?? [])]) {
    source.addEventListener(type, record);
  }
  const opened = new Promise<void>((resolve, reject) => {
    source.addEventListener("open", () => resolve(), { once: true });
    source.addEventListener("error", (e) => {
      if (source.readyState === EventSource.CLOSED) {
        reject(new Error(`EventSource failed: ${e.message ?? ""}`));
      }
    });
  });
  opened.catch(() => {});
  return {
    events,
    source,
    opened,
    waitFor(count, timeoutMs = 10_000) {
      if (events.length >= count) return Promise.resolve(events.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `expected ${count} events within ${timeoutMs} ms, got ${events.length}: ${
                JSON.stringify(events)
              }`,
            ),
          );
        }, timeoutMs);
        const check = () => {
          if (events.length < count) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve(events.slice());
        };
        listeners.add(check);
      });
    },
    close: () => source.close(),
  };
}

/** A raw HTTP/1.1 exchange over TCP: what was sent and everything received. */
export interface RawConnection {
  readonly socket: Socket;
  /** Everything received so far, as text. */
  text(): string;
  /** Waits until the received text matches `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the server closes the connection. */
  readonly closed: Promise<void>;
  close(): void;
}

/** Opens a TCP connection to `url`'s host and sends `request` verbatim. */
export function rawRequest(
  url: string,
  request: string,
  options: { read?: boolean } = {},
): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.write(request);
      resolve(connection);
    });
    let received = "";
    const waiters = new Set<() => void>();
    if (options.read === false) socket.pause();
    socket.on("data", (chunk) => {
      received += chunk.toString();
      for (const w of waiters) w();
    });
    socket.on("error", reject);
    const closed = new Promise<void>((r) => socket.on("close", () => r()));
    const connection: RawConnection = {
      socket,
      text: () => received,
      closed,
      waitFor(pattern, timeoutMs = 10_000) {
        if (pattern.test(received)) return Promise.resolve(received);
        return new Promise((res, rej) => {
          const timer = setTimeout(() => {
            waiters.delete(check);
            rej(
              new Error(
                `no ${pattern} within ${timeoutMs} ms; got ${
                  JSON.stringify(received.slice(0, 2000))
                }`,
              ),
            );
          }, timeoutMs);
          const check = () => {
            if (!pattern.test(received)) return;
            clearTimeout(timer);
            waiters.delete(check);
            res(received);
          };
          waiters.add(check);
        });
      },
      close: () => socket.destroy(),
    };
  });
}

/** Sleeps; for letting a server act, never as an assertion about timing. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A lightweight SSE client over a raw socket, for tests with many clients. */
export interface RawSubscriber {
  readonly events: { id?: string; event?: string; data: string }[];
  readonly retries: number[];
  /** Comment lines (`: keepalive`) received, without the colon. */
  readonly comments: string[];
  /** Status line and headers, once received. */
  head(): string;
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  readonly closed: Promise<void>;
  close(): void;
}

/** Opens `GET path` on `url`'s host with extra header lines, and parses SSE. */
export async function rawSubscribe(
  url: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawSubscriber> {
  const { createParser } = await import("eventsource-parser");
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join(
    "",
  );
  const events: { id?: string; event?: string; data: string }[] = [];
  const retries: number[] = [];
  const comments: string[] = [];
  const parser = createParser({
    onEvent: (e) => events.push({ id: e.id, event: e.event, data: e.data }),
    onRetry: (ms) => retries.push(ms),
    onComment: (text) => comments.push(text.trim()),
  });
  let head = "";
  let inBody = false;
  // Bytes, not text: chunk sizes of the chunked coding count bytes.
  let pending = new Uint8Array(0);
  const decoder = new TextDecoder();
  const waiters = new Set<() => void>();
  const raw = await rawRequest(
    url,
    `GET ${path} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`,
  );
  const append = (bytes: Uint8Array) => {
    const joined = new Uint8Array(pending.length + bytes.length);
    joined.set(pending);
    joined.set(bytes, pending.length);
    pending = joined;
  };
  const crlf = (from: number) => {
    for (let i = from; i + 1 < pending.length; i++) {
      if (pending[i] === 13 && pending[i + 1] === 10) return i;
    }
    return -1;
  };
  raw.socket.on("data", (chunk: Uint8Array) => {
    append(chunk);
    if (!inBody) {
      const text = new TextDecoder("latin1").decode(pending);
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      inBody = true;
      head = text.slice(0, end);
      pending = pending.slice(end + 4);
    }
    for (;;) {
      const eol = crlf(0);
      if (eol < 0) break;
      const size = parseInt(
        new TextDecoder().decode(pending.slice(0, eol)),
        16,
      );
      if (pending.length < eol + 2 + size + 2) break;
      parser.feed(
        decoder.decode(pending.slice(eol + 2, eol + 2 + size), {
          stream: true,
        }),
      );
      pending = pending.slice(eol + 2 + size + 2);
    }
    for (const w of waiters) w();
  });
  return {
    events,
    retries,
    comments,
    head: () => head,
    closed: raw.closed,
    close: raw.close,
    waitFor(count, timeoutMs = 20_000) {
      if (events.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `expected ${count} events within ${timeoutMs} ms, got ${events.length}`,
            ),
          );
        }, timeoutMs);
        const check = () => {
          if (events.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
  };
}

/** Polls `condition` until it holds; rejects with `what` after `timeoutMs`. */
export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
