/**
 * Batched acks: one `basic.ack` with `multiple` for every delivery settled
 * in the same turn, instead of one frame per message. Safe because an ack
 * with `multiple` only ever covers a contiguous run of deliveries that are
 * all settled: acked here (waiting for the batch) or already nacked (a nack
 * is sent at once, so the broker has forgotten it). A delivery still being
 * routed holds back every later ack on its channel; nothing is acked before
 * its event was queued to subscribers, so delivery stays at least once.
 *
 * @module
 */

import type { AMQPChannel, AMQPMessage } from "@cloudamqp/amqp-client";

/** Settles the deliveries of every channel of one source. */
export interface Acker {
  /** Call for each delivery as it arrives, in order. */
  received(message: AMQPMessage): void;
  /** The delivery was routed: ack it with the next batch. */
  ack(message: AMQPMessage): void;
  /** Nacks it now (by default without requeue: it can never be routed). */
  nack(message: AMQPMessage, requeue?: boolean): void;
}

/** Where a delivery stands until its channel hears about it. */
const State = { Routing: 0, Acked: 1, Nacked: 2 } as const;
type State = typeof State[keyof typeof State];

interface ChannelAcks {
  /** Delivery tags in arrival order (ascending), from `head` on. */
  tags: number[];
  states: Map<number, State>;
  head: number;
  scheduled: boolean;
}

/** An ack or nack on a channel that just closed: the broker redelivers. */
function ignoreClosed(): void {}

/** Creates the acker of one source. */
export function createAcker(): Acker {
  const channels = new WeakMap<AMQPChannel, ChannelAcks>();
  const of = (channel: AMQPChannel) => {
    let acks = channels.get(channel);
    if (acks === undefined) {
      acks = { tags: [], states: new Map(), head: 0, scheduled: false };
      channels.set(channel, acks);
    }
    return acks;
  };

  /** Acks, in one frame, the longest settled run from the oldest delivery. */
  const flush = (channel: AMQPChannel, acks: ChannelAcks) => {
    acks.scheduled = false;
    let lastAcked: number | undefined;
    while (acks.head < acks.tags.length) {
      const tag = acks.tags[acks.head];
      const state = acks.states.get(tag);
      if (state === State.Routing) break;
      if (state === State.Acked) lastAcked = tag;
      acks.states.delete(tag);
      acks.head++;
    }
    if (acks.head > 1024 && acks.head * 2 > acks.tags.length) {
      acks.tags = acks.tags.slice(acks.head);
      acks.head = 0;
    }
    if (lastAcked !== undefined && !channel.closed) {
      channel.basicAck(lastAcked, true).catch(ignoreClosed);
    }
  };

  const settle = (message: AMQPMessage, state: State) => {
    const acks = of(message.channel);
    acks.states.set(message.deliveryTag, state);
    if (acks.scheduled) return;
    acks.scheduled = true;
    // Deliveries of one socket read are queued as microtasks before this
    // one, so the batch holds all of them.
    queueMicrotask(() => flush(message.channel, acks));
  };

  return {
    received(message) {
      const acks = of(message.channel);
      acks.tags.push(message.deliveryTag);
      acks.states.set(message.deliveryTag, State.Routing);
    },
    ack: (message) => settle(message, State.Acked),
    nack(message, requeue = false) {
      message.nack(requeue).catch(ignoreClosed);
      settle(message, State.Nacked);
    },
  };
}
