/**
 * Mycel's RabbitMQ defaults that depend on several blocks, written into the
 * mapped config where hypha's own differ: the exchange's type and binding
 * key, the dead-letter names, and create_if_missing (Mycel only checks that
 * queues and exchanges exist unless it is true).
 *
 * @module
 */

import { type Block, lookup, type Mapping, where } from "./context.ts";

/**
 * The defaults that depend on several blocks: the exchange's type and
 * routing key, the dead-letter exchange's name, create_if_missing.
 */
export function finishTopology(m: Mapping, block: Block): void {
  const path = block.path;
  const table = (key: string) => lookup(m.raw, [...path, key]);
  const consumer = table("consumer");
  const queue = table("queue");
  const queueName = String(
    lookup(consumer, ["queue"]) ?? lookup(queue, ["name"]) ?? "",
  );
  if (queueName === "") {
    m.fail(
      block,
      undefined,
      'has no queue name: Mycel consumes a named queue only; write queue { name = "..." } (hypha\'s server-named queues, one per instance, are TOML only: see Scale-out)',
    );
  }
  defaultTo(
    m,
    block,
    [...path, "queue", "create_if_missing"],
    false,
    "false: Mycel only checks that the queue exists, and creates it with create_if_missing = true",
  );
  // Mycel's consumer defaults apply with or without a consumer block.
  defaultTo(
    m,
    block,
    [...path, "consumer", "prefetch"],
    10,
    "10 (hypha's own default is 100)",
    where(block, "consumer"),
  );
  const exchange = table("exchange");
  if (exchange !== undefined) {
    const at = where(block, "exchange");
    if (
      lookup(exchange, ["name"]) === "" ||
      lookup(exchange, ["name"]) === undefined
    ) {
      m.fail(
        block,
        "exchange",
        "has no name: without one Mycel binds nothing; write name or remove the block",
      );
    }
    defaultTo(
      m,
      block,
      [...path, "exchange", "type"],
      "direct",
      '"direct" (Mycel\'s default; hypha\'s is "topic")',
      at,
    );
    defaultTo(
      m,
      block,
      [...path, "exchange", "routing_key"],
      queueName,
      `the queue name (Mycel binds with it when routing_key is not set; hypha's default is "#")`,
      at,
    );
    defaultTo(
      m,
      block,
      [...path, "exchange", "create_if_missing"],
      false,
      "false: Mycel only checks that the exchange exists, and declares it with create_if_missing = true",
      at,
    );
  }
  const dlq = lookup(consumer, ["dlq"]);
  if (dlq !== undefined && lookup(dlq, ["exchange"]) === undefined) {
    const name = lookup(exchange, ["name"]);
    defaultTo(
      m,
      block,
      [...path, "consumer", "dlq", "exchange"],
      name === undefined ? "dlx" : `${name}.dlx`,
      "Mycel names the dead-letter exchange after the exchange (<exchange>.dlx); hypha after the queue (<queue>.dlx)",
    );
  }
  if (
    dlq !== undefined && lookup(dlq, ["queue"]) === undefined &&
    queueName === ""
  ) {
    defaultTo(
      m,
      block,
      [...path, "consumer", "dlq", "queue"],
      "dlq",
      'Mycel names the dead-letter queue "dlq" when the queue has no name',
    );
  }
}

function defaultTo(
  m: Mapping,
  block: Block,
  path: string[],
  value: unknown,
  why: string,
  at = where(block),
): void {
  if (lookup(m.raw, path) !== undefined) return;
  m.set(path, value, at);
  m.note(path, "default", why);
}
