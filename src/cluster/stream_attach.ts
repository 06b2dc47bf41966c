/**
 * A cluster log's life on the broker: the link's connections, and what one
 * attach does on them (declare the stream, learn its epoch, notice a
 * recreated stream, follow the tail, watch for a resource alarm). The log
 * reads what it needs to append and read from here.
 *
 * @module
 */

import type { AMQPChannel, AMQPClient } from "@cloudamqp/amqp-client";
import { errorMessage } from "../core/errors.ts";
import type { Interrupted } from "../core/history/event_log.ts";
import type { Fields, Logger } from "../core/log.ts";
import { formatId } from "./event_id.ts";
import type { PendingAppends } from "./pending_appends.ts";
import { follow } from "./stream_follow.ts";
import { createLink, type LinkOptions } from "./stream_link.ts";
import {
  declareStream,
  discoverEpoch,
  type StreamSpec,
} from "./stream_setup.ts";
import type { Tail } from "./stream_tail.ts";

/** The attached state, read by the log; undefined while detached. */
export interface Attachment {
  /** The confirm channel appends are published on. */
  readonly publisher: AMQPChannel | undefined;
  /** The connection stream reads open their channels on. */
  readonly consuming: AMQPClient | undefined;
  /** The broker's reason while it blocks publishing (a resource alarm). */
  readonly blocked: string | undefined;
  /** Told when a recreated stream lost what this instance had not seen. */
  interrupted: Interrupted;
  /** A marker for this instance's hello records and appends. */
  nextMarker(): string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What attaching needs. */
export interface AttachOptions
  extends Omit<LinkOptions, "attach" | "detached" | "log" | "where"> {
  readonly stream: StreamSpec;
  readonly log: Logger;
  readonly where: Fields;
  readonly tail: Tail;
  readonly pending: PendingAppends;
}

/** Creates the attachment; nothing happens before `start`. */
export function createAttachment(options: AttachOptions): Attachment {
  const { log, where, tail, pending } = options;
  const stream = options.stream.name;
  const nonce = crypto.randomUUID().slice(0, 8);
  let sequence = 0;

  const state: Attachment = {
    publisher: undefined,
    consuming: undefined,
    blocked: undefined,
    interrupted: () => {},
    nextMarker: () => `${nonce}.${sequence++}`,
    start: () => link.start(),
    stop: () => link.stop(),
  };
  const set = (
    next: Partial<Pick<Attachment, "publisher" | "consuming" | "blocked">>,
  ) => Object.assign(state, next);

  const attach = async (
    client: AMQPClient,
    publishing: AMQPClient,
    lost: (reason: string) => void,
  ) => {
    await declareStream(client, options.stream);
    const epoch = await discoverEpoch(client, stream);
    if (tail.epoch !== "" && epoch !== tail.epoch) {
      log.warn("cluster stream was recreated; older ids now give a gap", {
        ...where,
        epoch,
      });
      tail.reset();
      // What the old stream held past this tail is gone with it: say so to
      // every client, which then resumes from the new stream's start.
      state.interrupted("unknown", formatId(epoch, 0));
    }
    tail.epoch = epoch;
    const channel = await publishing.channel();
    await channel.confirmSelect();
    set({ consuming: client });
    const following = await follow(
      tail,
      client,
      channel,
      stream,
      state.nextMarker(),
    );
    // The broker cancels the tail when the stream is deleted: attach again,
    // which declares it anew and learns the new stream's epoch.
    following.wait().then(
      () => lost("tail consumer ended"),
      (error: Error) => lost(`tail consumer ended: ${errorMessage(error)}`),
    );
    watchBlocked(publishing);
    set({ publisher: channel });
  };

  // A resource alarm: the broker stops reading this connection, so appends
  // in flight would wait out their timeout; they fail now instead (503, as
  // new ones do), and readiness says why.
  const watchBlocked = (publishing: AMQPClient) => {
    publishing.onblocked = (reason) => {
      set({ blocked: reason });
      log.warn("the broker blocks publishing; appends answer 503", {
        ...where,
        reason,
      });
      pending.detached(`the broker blocks publishing: ${reason}`);
    };
    publishing.onunblocked = () => {
      set({ blocked: undefined });
      log.info("the broker takes appends again", where);
    };
  };

  const link = createLink({
    url: options.url,
    tlsOptions: options.tlsOptions,
    connectionName: options.connectionName,
    heartbeatSeconds: options.heartbeatSeconds,
    reconnectDelayMs: options.reconnectDelayMs,
    log,
    where,
    attach,
    detached(reason) {
      set({ publisher: undefined, consuming: undefined, blocked: undefined });
      pending.detached(reason);
    },
  });
  return state;
}
