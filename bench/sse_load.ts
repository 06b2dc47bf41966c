/**
 * The load generator of bench/compare.ts: thousands of SSE clients on raw
 * sockets with a minimal scanner (no EventSource per client), and a
 * recorder of publish-to-receive latencies.
 *
 * Every published body carries `"t":<performance.now() of this process>`;
 * a client counts one event per `"t":` it reads and records now - t. The
 * servers write whole frames, so a chunk boundary of the chunked coding
 * never falls inside a number (frames are cut on "\n\n" before scanning).
 */

import { connect, type Socket } from "node:net";

/** Latencies (ms) of every delivery in a measured window. */
export class Latencies {
  private values = new Float64Array(1 << 16);
  count = 0;
  recording = false;

  add(ms: number): void {
    if (!this.recording) return;
    if (this.count === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.count++] = ms;
  }

  /** The p-th percentile (0..100), NaN when nothing was recorded. */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const sorted = this.values.slice(0, this.count).sort();
    return sorted[Math.min(this.count - 1, Math.floor((p / 100) * this.count))];
  }

  reset(): void {
    this.count = 0;
  }
}

/** One SSE client: counts events, feeds latencies. */
export interface SseClient {
  events: number;
  close(): void;
}

const MARK = '"t":';

/**
 * The parser every client shares: the response head, then whole frames;
 * one event per `"t":` read, its latency recorded. Returns false once the
 * head was refused (the caller closes).
 */
interface Scanner {
  head: boolean;
  carry: string;
}

/** Connects to `url` (host, port, path+query) and resolves on a 200 head. */
export function openClient(
  url: URL,
  latencies: Latencies,
  timeoutMs = 30_000,
): Promise<SseClient> {
  // Bun's native sockets cost the generator a fraction of node:net's per
  // read (measured in bench/results): the generator must not be what the
  // capacity row measures.
  return "Bun" in globalThis
    ? openBunClient(url, latencies, timeoutMs)
    : openNodeClient(url, latencies, timeoutMs);
}

const request = (url: URL) =>
  `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
  `Accept: text/event-stream\r\n\r\n`;

/**
 * Feeds one chunk (latin1: one char per byte) to `scanner`; resolves or
 * rejects the connect through `answered` when the head is complete.
 */
function scan(
  scanner: Scanner,
  client: SseClient,
  chunk: string,
  latencies: Latencies,
  answered: (error?: Error) => void,
): void {
  const now = performance.now();
  let text = scanner.carry + chunk;
  if (scanner.head) {
    const end = text.indexOf("\r\n\r\n");
    if (end < 0) {
      scanner.carry = text;
      return;
    }
    if (!text.startsWith("HTTP/1.1 200")) {
      answered(new Error(text.slice(0, text.indexOf("\r\n"))));
      return;
    }
    scanner.head = false;
    answered();
    text = text.slice(end + 4);
  }
  const last = text.lastIndexOf("\n\n");
  if (last < 0) {
    scanner.carry = text;
    return;
  }
  scanner.carry = text.slice(last + 2);
  let at = text.indexOf(MARK);
  while (at >= 0 && at < last) {
    client.events++;
    latencies.add(now - parseFloat(text.slice(at + 4, at + 24)));
    at = text.indexOf(MARK, at + 4);
  }
}

/** One connect's settling: a timer, and resolve or reject once. */
function settling(
  url: URL,
  timeoutMs: number,
  close: () => void,
  resolve: () => void,
  reject: (error: Error) => void,
) {
  let open = true;
  const timer = setTimeout(() => {
    close();
    done(new Error(`no answer within ${timeoutMs} ms`));
  }, timeoutMs);
  const done = (error?: Error) => {
    if (!open) return;
    open = false;
    clearTimeout(timer);
    if (error === undefined) return resolve();
    close();
    reject(new Error(`${url}: ${error.message}`));
  };
  return done;
}

function openNodeClient(
  url: URL,
  latencies: Latencies,
  timeoutMs: number,
): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({
      host: url.hostname,
      port: Number(url.port),
    });
    socket.setNoDelay(true);
    const scanner: Scanner = { head: true, carry: "" };
    const client: SseClient = { events: 0, close: () => socket.destroy() };
    const answered = settling(
      url,
      timeoutMs,
      client.close,
      () => resolve(client),
      reject,
    );
    socket.on("connect", () => socket.write(request(url)));
    socket.on("error", (error) => answered(error));
    // Closed before any answer: say so at once instead of timing out.
    socket.on("close", () => answered(new Error("closed by the server")));
    socket.on("data", (chunk: Uint8Array) => {
      scan(scanner, client, latin1(chunk), latencies, answered);
    });
  });
}

/** Per-socket state of a Bun client (the handlers are shared). */
interface BunClient {
  scanner: Scanner;
  client: SseClient;
  latencies: Latencies;
  answered: (error?: Error) => void;
}

type BunSocket = { data: BunClient; end(): void; write(s: string): number };

const bunHandlers = {
  data(socket: BunSocket, chunk: Uint8Array) {
    const state = socket.data;
    scan(
      state.scanner,
      state.client,
      latin1(chunk),
      state.latencies,
      state.answered,
    );
  },
  close(socket: BunSocket) {
    socket.data.answered(new Error("closed by the server"));
  },
  error(socket: BunSocket, error: Error) {
    socket.data.answered(error);
  },
  connectError(socket: BunSocket, error: Error) {
    socket.data.answered(error);
  },
};

function openBunClient(
  url: URL,
  latencies: Latencies,
  timeoutMs: number,
): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    let socket: BunSocket | undefined;
    let closed = false;
    const client: SseClient = {
      events: 0,
      close: () => {
        closed = true;
        socket?.end();
      },
    };
    const state: BunClient = {
      scanner: { head: true, carry: "" },
      client,
      latencies,
      answered: settling(
        url,
        timeoutMs,
        client.close,
        () => resolve(client),
        reject,
      ),
    };
    const bun = (globalThis as unknown as {
      Bun: {
        connect(options: unknown): Promise<BunSocket>;
      };
    }).Bun;
    bun.connect({
      hostname: url.hostname,
      port: Number(url.port),
      data: state,
      socket: bunHandlers,
    }).then((s) => {
      socket = s;
      if (closed) return s.end();
      s.write(request(url));
    }, (error: Error) => state.answered(error));
  });
}

function latin1(chunk: Uint8Array): string {
  // Buffer on both runtimes; latin1 keeps one char per byte, cheaply.
  return (chunk as unknown as { toString(e: string): string }).toString(
    "latin1",
  );
}

/** Opens `count` clients, `concurrency` at a time; urls by client index. */
export async function openClients(
  count: number,
  urlOf: (i: number) => URL,
  latencies: Latencies,
  concurrency = 100,
): Promise<SseClient[]> {
  const clients: SseClient[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      clients[i] = await openClient(urlOf(i), latencies);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return clients;
}

/** Sum of events over `clients`. */
export function totalEvents(clients: readonly SseClient[]): number {
  let n = 0;
  for (const c of clients) n += c.events;
  return n;
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((r) => setTimeout(r, ms));

/** Waits until `done()` or `timeoutMs` passed; says which. */
export async function waitUntil(
  done: () => boolean,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/**
 * Calls `send(i)` `rate` times per second for `seconds`, on a 10 ms grid,
 * without waiting for answers (an open-loop publisher, like real traffic).
 */
export async function publishAtRate(
  rate: number,
  seconds: number,
  send: (i: number) => Promise<unknown>,
): Promise<{ sent: number; failed: number }> {
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const pending: Promise<unknown>[] = [];
  let failed = 0;
  for (let i = 0; i < total; i++) {
    const wait = started + (i / rate) * 1000 - performance.now();
    if (wait > 2) await sleep(wait);
    pending.push(send(i).catch(() => failed++));
  }
  await Promise.all(pending);
  return { sent: total, failed };
}

/** A body of about 120 bytes carrying the send time. */
export function stampedBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    ...extra,
    t: performance.now(),
    note: "x".repeat(100),
  });
}
