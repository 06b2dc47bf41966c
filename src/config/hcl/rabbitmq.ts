/**
 * Mycel's RabbitMQ connector (`type = "mq"`, driver "rabbitmq"). Its
 * defaults differ from hypha's in several places; each is written into the
 * mapped config with a note: exchange type direct, the binding's routing key
 * = the queue name, prefetch 10, max_reconnects 10, the dead-letter
 * exchange `<exchange>.dlx`, dlq on when its block exists, and queues and
 * exchanges only checked unless `create_if_missing = true`. A `publisher`
 * block makes the connector a flow target; hypha always publishes with
 * confirms.
 *
 * @module
 */

import {
  type Block,
  type Mapping,
  readBlock,
  type Rule,
  where,
} from "./context.ts";
import { finishTopology } from "./rabbitmq_defaults.ts";

const ONLY_FALSE = (what: string): Rule => ({
  only: false,
  advice: `hypha does not ${what}; remove it or set it to false`,
});

const RETRY_NOTE =
  "hypha dead-letters a refused message at once: what refuses it (not JSON, no flow, no target) is in the message, and a retry would refuse it again";

/** Reads the connector; `type` is "mq" or "rabbitmq" (accepted as Mycel's alias). */
export function readRabbit(m: Mapping, block: Block, type: string): void {
  const path = block.path;
  const at = where(block);
  if (type === "rabbitmq") {
    m.note(
      [...path, "type"],
      "differs",
      'type "rabbitmq" is written type = "mq", driver = "rabbitmq"',
    );
  }
  m.set([...path, "type"], "mq", where(block, "type"));
  const driver = block.json.driver === undefined
    ? "rabbitmq"
    : m.value(block, "driver");
  if (driver !== "rabbitmq") {
    if (driver !== undefined) {
      m.fail(
        block,
        "driver",
        `hypha has no "${driver}" driver; only "rabbitmq"`,
      );
    }
    return;
  }
  m.set([...path, "driver"], "rabbitmq", at);
  readBlock(m, block, {
    type: { take: () => {} },
    driver: { take: () => {} },
    url: "copy",
    host: "copy",
    port: "copy",
    username: "copy",
    password: "copy",
    vhost: "copy",
    heartbeat: "copy",
    connection_name: "copy",
    reconnect_delay: "copy",
    max_reconnects: "copy",
    topology_check: "copy",
    tls: { block: (m, b) => readBlock(m, b, TLS_RULES) },
    queue: { block: readQueue },
    exchange: { block: readExchange },
    consumer: { block: readConsumer },
    publisher: { block: readPublisher },
  });
  if (block.json.max_reconnects === undefined) {
    m.set([...path, "max_reconnects"], 10, at);
    m.note(
      [...path, "max_reconnects"],
      "default",
      "10 (hypha's own default, 0, retries forever)",
    );
  }
  // A connector with only a publisher block consumes nothing.
  const consumes = ["queue", "exchange", "consumer"].some((key) =>
    block.json[key] !== undefined
  );
  if (consumes || block.json.publisher === undefined) finishTopology(m, block);
}

const TLS_RULES: Record<string, Rule> = {
  enabled: "copy",
  cert: "copy",
  key: "copy",
  ca_cert: "copy",
  insecure_skip_verify: "copy",
};

function readQueue(m: Mapping, b: Block): void {
  readBlock(m, b, {
    name: "copy",
    durable: "copy",
    auto_delete: "copy",
    exclusive: "copy",
    args: "copy",
    create_if_missing: "copy",
    no_wait: ONLY_FALSE("skip the broker's answer to a declare"),
  });
}

function readExchange(m: Mapping, b: Block): void {
  readBlock(m, b, {
    name: "copy",
    type: "copy",
    durable: "copy",
    routing_key: "copy",
    args: "copy",
    create_if_missing: "copy",
    bind_args: {
      rename: "binding_args",
      why: "Mycel's bind_args is hypha's binding_args",
    },
    binding_args: "copy",
    auto_delete: ONLY_FALSE("declare auto-delete exchanges"),
    internal: ONLY_FALSE("declare internal exchanges"),
    no_wait: ONLY_FALSE("skip the broker's answer to a declare"),
  });
}

function readConsumer(m: Mapping, b: Block): void {
  readBlock(m, b, {
    queue: "copy",
    prefetch: "copy",
    auto_ack: "copy",
    tag: "copy",
    create_if_missing: {
      read: (m, b, v) =>
        m.set(
          [...b.path.slice(0, -1), "queue", "create_if_missing"],
          v,
          where(b, "create_if_missing"),
        ),
    },
    dlq: { block: readDlq },
    concurrency: {
      ignore:
        "hypha reads deliveries on one consumer; prefetch bounds how many are in flight",
    },
    workers: {
      ignore:
        "hypha reads deliveries on one consumer; prefetch bounds how many are in flight",
    },
    retry_count: { ignore: RETRY_NOTE },
    exclusive: ONLY_FALSE("consume exclusively"),
    no_local: ONLY_FALSE("support no_local (RabbitMQ ignores it too)"),
    no_wait: ONLY_FALSE("skip the broker's answer to a consume"),
    args: { refuse: "hypha passes no consumer arguments; remove it" },
  });
}

/** `publisher { ... }`: the connector becomes a flow target. */
function readPublisher(m: Mapping, b: Block): void {
  readBlock(m, b, {
    exchange: "copy",
    routing_key: "copy",
    persistent: "copy",
    content_type: "copy",
    mandatory: "copy",
    confirms: { ignore: CONFIRMS_NOTE },
    immediate: ONLY_FALSE("publish immediate (RabbitMQ refuses it)"),
  });
  if (b.json.confirms === undefined) {
    m.note(b.path, "differs", CONFIRMS_NOTE);
  }
}

const CONFIRMS_NOTE =
  "hypha always waits for the broker's confirm (Mycel only with confirms = true): a flow's publish is done once the broker has the message, and refused (REST 503, RabbitMQ input requeued) while it is away";

function readDlq(m: Mapping, b: Block): void {
  readBlock(m, b, {
    enabled: "copy",
    exchange: "copy",
    queue: "copy",
    max_retries: { ignore: RETRY_NOTE },
    retry_delay: { ignore: RETRY_NOTE },
    retry_header: { ignore: RETRY_NOTE },
    routing_key: {
      refuse:
        "hypha's dead-letter exchange is fanout: every refused message reaches the DLQ; remove routing_key",
    },
    external: ONLY_FALSE("leave the dead-letter topology to others"),
  });
  if (b.json.enabled === undefined) {
    m.set([...b.path, "enabled"], true, where(b));
    m.note(
      [...b.path, "enabled"],
      "default",
      "true: in Mycel a dlq block turns dead-lettering on (in hypha, enabled defaults to false)",
    );
  }
}
