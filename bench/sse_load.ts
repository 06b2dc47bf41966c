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

/** Connects to `url` (host, port, path+query) and resolves on a 200 head. */
export function openClient(
  url: URL,
  latencies: Latencies,
  timeoutMs = 30_000,
): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({
      host: url.hostname,
      port: Number(url.port),
    });
    socket.setNoDelay(true);
    let head = true;
    let carry = "";
    const client: SseClient = { events: 0, close: () => socket.destroy() };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer from ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("connect", () => {
      socket.write(
        `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
          `Accept: text/event-stream\r\n\r\n`,
      );
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // Closed before any answer: say so at once instead of timing out.
    socket.on("close", () => {
      if (!head) return;
      clearTimeout(timer);
      reject(new Error(`${url}: closed by the server before answering`));
    });
    socket.on("data", (chunk: Uint8Array) => {
      const now = performance.now();
      let text = carry + latin1(chunk);
      if (head) {
        const end = text.indexOf("\r\n\r\n");
        if (end < 0) {
          carry = text;
          return;
        }
        if (!text.startsWith("HTTP/1.1 200")) {
          clearTimeout(timer);
          socket.destroy();
          reject(new Error(`${url}: ${text.slice(0, text.indexOf("\r\n"))}`));
          return;
        }
        head = false;
        clearTimeout(timer);
        resolve(client);
        text = text.slice(end + 4);
      }
      const last = text.lastIndexOf("\n\n");
      if (last < 0) {
        carry = text;
        return;
      }
      carry = text.slice(last + 2);
      let at = text.indexOf(MARK);
      while (at >= 0 && at < last) {
        client.events++;
        latencies.add(now - parseFloat(text.slice(at + 4, at + 24)));
        at = text.indexOf(MARK, at + 4);
      }
    });
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
