/**
 * The lifecycle source's queue and the loop that drains it: a batch per
 * loop turn, its sends in flight together, then a yield to the rest of the
 * process; what the target refused as away goes back to the front, in
 * order, and is retried after a pause. The caller bounds it (`size`).
 *
 * @module
 */

/** A FIFO that sends what it holds once started. */
export interface SendQueue<T> {
  /** Items waiting (sends in flight included). */
  readonly size: number;
  /** Queues `item`; the drain runs soon. */
  push(item: T): void;
  start(): void;
  /** Ends the drain after its current batch. */
  stop(): void;
}

/** Events sent per loop turn before yielding to the rest of the process. */
const BATCH = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Creates an idle queue; `send` resolves false when the target is away
 * (retry it `retryMs` later), true when the item is done with.
 */
export function createSendQueue<T>(
  send: (item: T) => Promise<boolean>,
  retryMs: number,
): SendQueue<T> {
  // A FIFO with a moving head: shift() on a long array costs O(n).
  let queue: T[] = [];
  let head = 0;
  let started = false;
  let stopped = false;
  let draining = false;

  /**
   * A batch at a time, its sends in flight together (a cluster's log
   * confirms each append: one by one would cap the pace at one round trip
   * per event); what the target refused as away goes back, in order.
   */
  const drain = async () => {
    if (draining || !started) return;
    draining = true;
    try {
      while (!stopped && head < queue.length) {
        const batch = queue.slice(head, head + BATCH);
        const sent = await Promise.all(batch.map(send));
        const away = batch.filter((_, i) => !sent[i]);
        queue.fill(undefined as unknown as T, head, head + batch.length);
        head += batch.length - away.length;
        for (let i = 0; i < away.length; i++) queue[head + i] = away[i];
        if (head > 1024 && head * 2 > queue.length) {
          queue = queue.slice(head);
          head = 0;
        }
        // Yield to the rest of the process between batches.
        await sleep(away.length > 0 ? retryMs : 0);
      }
    } finally {
      draining = false;
    }
  };

  return {
    get size() {
      return queue.length - head;
    },
    push(item) {
      queue.push(item);
      if (!draining) queueMicrotask(drain);
    },
    start() {
      started = true;
      queueMicrotask(drain);
    },
    stop() {
      stopped = true;
    },
  };
}
