/**
 * Batched acks (src/sources/rabbitmq_acks.ts): what goes to the broker for
 * deliveries settled in and out of order. A recording channel stands in
 * for the broker; tests/rabbitmq_ack.test.ts covers the real one.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AMQPChannel, AMQPMessage } from "@cloudamqp/amqp-client";
import { ackBatch, createAcker } from "../src/sources/rabbitmq_acks.ts";

function recordingChannel() {
  const frames: string[] = [];
  const channel = {
    closed: false,
    basicAck(tag: number, multiple: boolean) {
      frames.push(`ack ${tag}${multiple ? " multiple" : ""}`);
      return Promise.resolve();
    },
  } as unknown as AMQPChannel;
  const message = (tag: number) =>
    ({
      channel,
      deliveryTag: tag,
      nack(requeue: boolean) {
        frames.push(`nack ${tag}${requeue ? " requeue" : ""}`);
        return Promise.resolve();
      },
    }) as unknown as AMQPMessage;
  return { frames, message };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Short batches: each test's settles land in batches of their own. */
const quick = { delayMs: 1, batch: 100 };
/** Long enough for a batch of `quick` to have gone out. */
const turn = () => sleep(30);

test("deliveries settled in one turn are acked with one multiple ack", async () => {
  const { frames, message } = recordingChannel();
  const acker = createAcker(quick);
  const ms = [1, 2, 3].map(message);
  for (const m of ms) acker.received(m);
  for (const m of ms) acker.ack(m);
  await turn();
  assert.deepEqual(frames, ["ack 3 multiple"]);
});

test("a delivery still being routed holds back the acks after it", async () => {
  const { frames, message } = recordingChannel();
  const acker = createAcker(quick);
  const [m1, m2, m3] = [1, 2, 3].map(message);
  for (const m of [m1, m2, m3]) acker.received(m);
  acker.ack(m1);
  acker.ack(m3);
  await turn();
  assert.deepEqual(frames, ["ack 1 multiple"], "3 waits for 2");
  acker.ack(m2);
  await turn();
  assert.deepEqual(frames, ["ack 1 multiple", "ack 3 multiple"]);
});

test("a refused delivery is nacked at once and a later ack does not cover it twice", async () => {
  const { frames, message } = recordingChannel();
  const acker = createAcker(quick);
  const [m1, m2, m3] = [1, 2, 3].map(message);
  for (const m of [m1, m2, m3]) acker.received(m);
  acker.ack(m1);
  acker.nack(m2);
  assert.deepEqual(frames, ["nack 2"], "sent before the batch");
  acker.ack(m3);
  await turn();
  assert.deepEqual(frames, ["nack 2", "ack 3 multiple"]);
  // Only nacks pending: nothing more to ack.
  const m4 = message(4);
  acker.received(m4);
  acker.nack(m4);
  await turn();
  assert.deepEqual(frames, ["nack 2", "ack 3 multiple", "nack 4"]);
});

test("a delivery nacked later with requeue holds back later acks until then", async () => {
  const { frames, message } = recordingChannel();
  const acker = createAcker(quick);
  const [m1, m2] = [1, 2].map(message);
  for (const m of [m1, m2]) acker.received(m);
  acker.ack(m2);
  await turn();
  assert.deepEqual(frames, [], "2 must not cover 1, still unsettled");
  acker.nack(m1, true);
  await turn();
  assert.deepEqual(frames, ["nack 1 requeue", "ack 2 multiple"]);
});

test("deliveries settled within the delay of each other share one ack", async () => {
  const { frames, message } = recordingChannel();
  const acker = createAcker({ delayMs: 150, batch: 100 });
  const [m1, m2, m3] = [1, 2, 3].map(message);
  for (const m of [m1, m2, m3]) acker.received(m);
  acker.ack(m1);
  await sleep(0);
  acker.ack(m2);
  acker.ack(m3);
  assert.deepEqual(frames, [], "a turn later the first still waits");
  await sleep(400);
  assert.deepEqual(frames, ["ack 3 multiple"]);
});

test("a batch goes out at once when half the prefetch is held", () => {
  const { frames, message } = recordingChannel();
  const acker = createAcker({ delayMs: 60_000, batch: ackBatch(4) });
  const [m1, m2, m3] = [1, 2, 3].map(message);
  acker.received(m1);
  acker.ack(m1);
  assert.deepEqual(frames, [], "one held of a batch of two: waits");
  acker.received(m2);
  acker.ack(m2);
  assert.deepEqual(frames, ["ack 2 multiple"], "two held: at once");
  acker.received(m3);
  acker.flush();
  assert.deepEqual(frames, ["ack 2 multiple"], "3 is still being routed");
  acker.ack(m3);
  acker.flush();
  assert.deepEqual(frames, ["ack 2 multiple", "ack 3 multiple"]);
});

test("with prefetch = 1 every delivery is acked at once", () => {
  const { frames, message } = recordingChannel();
  const acker = createAcker({ delayMs: 60_000, batch: ackBatch(1) });
  for (const tag of [1, 2]) {
    const m = message(tag);
    acker.received(m);
    acker.ack(m);
  }
  assert.deepEqual(frames, ["ack 1 multiple", "ack 2 multiple"]);
});

test("batches: half the prefetch, 256 without a prefetch limit", () => {
  assert.deepEqual([0, 1, 2, 3, 100].map(ackBatch), [256, 1, 1, 1, 50]);
});
