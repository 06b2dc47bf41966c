/**
 * The CEL cost bound through a real hypha process on REST: a filter or
 * transform that would run too long refuses its message (422, or that
 * element's own entry in a 207), the others go out, the counters add up,
 * and the server keeps answering while it works. On RabbitMQ the refused
 * message is dead-lettered like any other refusal.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { subscribe } from "./support/clients.ts";
import {
  adminStats,
  adminUrl,
  type Hypha,
  publish,
  RUNTIME,
  startHypha,
} from "./support/hypha.ts";
import {
  type Broker,
  connectBroker,
  eventually,
  sourceStats,
  uniqueName,
  waitForNumbers,
} from "./support/rabbitmq.ts";
import {
  ADMIN,
  type ConfigInput,
  flow,
  merge,
  rabbitConfig,
  RABBITMQ_URL,
  rest,
  sse,
} from "./support/config_builder.ts";

const CONFIG = merge<ConfigInput>({
  connector: { sse: sse(), api: rest({ max_body: "8MiB" }) },
  flow: {
    tags: flow(
      { connector: "api", operation: "POST /tags" },
      { connector: "sse", operation: "send_to_room", target: "input.room" },
      {
        filter:
          "input.tags.filter(t, input.tags.exists(u, u == t + '!')).size() == 0",
      },
    ),
    items: flow(
      { connector: "api", operation: "POST /items" },
      { connector: "sse", operation: "send_to_room", target: "input.room" },
      { transform: { doubled: "input.items.map(x, x * 2.0)" } },
    ),
  },
}, ADMIN);

const STEPS_REASON =
  "evaluation stopped: its macros visit more than 5000 elements (nested macros multiply)";
const tags = (n: number) => Array.from({ length: n }, (_, i) => `tag-${i}`);
const numbers = (n: number) => Array.from({ length: n }, (_, i) => i);

describe(`CEL cost bound through REST (${RUNTIME})`, () => {
  let hypha: Hypha;
  let api: string;
  let events: string;
  before(async () => {
    hypha = await startHypha(CONFIG);
    api = new URL("/", hypha.urls.api).href.replace(/\/$/, "");
    events = hypha.urls.sse;
  });
  after(async () => await hypha.stop());

  const stats = async (): Promise<{
    received: number;
    delivered: number;
    rejected: Record<string, number>;
  }> => (await adminStats(hypha)).sources.api;

  test("a quadratic filter over 10,000 tags is refused with 422 and the bound's reason", async () => {
    const before = await stats();
    assert.deepEqual(
      await publish(`${api}/tags`, { room: "t", tags: tags(10_000) }),
      { status: 422, body: { error: `flow tags: filter: ${STEPS_REASON}` } },
    );
    const after = await stats();
    assert.equal(after.received, before.received + 1);
    assert.equal(
      after.rejected.cel_limit,
      (before.rejected.cel_limit ?? 0) + 1,
    );
  });

  test("/healthz and the subscribers are answered while a batch of quadratic filters is worked through", async () => {
    const live = subscribe(`${events}?room=live`);
    await live.opened;
    const batch = [
      { room: "live", tags: ["first"] },
      ...Array.from(
        { length: 40 },
        () => ({ room: "live", tags: tags(10_000) }),
      ),
    ];
    let answered = false;
    const pending = publish(`${api}/tags`, batch).then((answer) => {
      answered = true;
      return answer;
    });
    // The first element's event reaches us while the others still run.
    const [first] = await live.waitFor(1);
    assert.deepEqual(JSON.parse(first.data), batch[0]);
    const health = await fetch(adminUrl(hypha, "/healthz"));
    await health.body?.cancel();
    assert.equal(health.status, 200);
    assert.equal(answered, false, "the batch was still being worked through");
    const answer = await pending;
    assert.equal(answer.status, 207);
    assert.deepEqual(answer.body.results, [
      { delivered: 1 },
      ...batch.slice(1).map(() => ({
        error: "cel_limit",
        reason: `flow tags: filter: ${STEPS_REASON}`,
      })),
    ]);
    live.close();
  });

  test("a 30,000-item map in a batch: 207, that element refused on its own, the others delivered, the counters add up", async () => {
    const room = subscribe(`${events}?room=m`);
    await room.opened;
    const before = await stats();
    const answer = await publish(`${api}/items`, [
      { room: "m", items: [1, 2] },
      { room: "m", items: numbers(30_000) },
      { room: "m", items: [3] },
    ]);
    assert.deepEqual(answer, {
      status: 207,
      body: {
        delivered: 2,
        accepted: 2,
        refused: 1,
        results: [
          { delivered: 1 },
          {
            error: "cel_limit",
            reason: `flow items: transform.doubled: ${STEPS_REASON}`,
          },
          { delivered: 1 },
        ],
      },
    });
    const got = await room.waitFor(2);
    assert.deepEqual(got.map((e) => e.data), [
      '{"doubled":[2,4]}',
      '{"doubled":[6]}',
    ]);
    const after = await stats();
    assert.equal(after.received, before.received + 3);
    assert.equal(after.delivered, before.delivered + 2);
    assert.equal(
      after.rejected.cel_limit,
      (before.rejected.cel_limit ?? 0) + 1,
    );
    room.close();
  });

  test("a 10,000-item single message is refused with 422, not 500; 5,000 items (the bound) go out whole", async () => {
    assert.deepEqual(
      await publish(`${api}/items`, { room: "s", items: numbers(10_000) }),
      {
        status: 422,
        body: { error: `flow items: transform.doubled: ${STEPS_REASON}` },
      },
    );
    const room = subscribe(`${events}?room=s`);
    await room.opened;
    assert.deepEqual(
      await publish(`${api}/items`, { room: "s", items: numbers(5_000) }),
      { status: 202, body: { delivered: 1 } },
    );
    const [event] = await room.waitFor(1);
    assert.deepEqual(JSON.parse(event.data), {
      doubled: numbers(5_000).map((n) => n * 2),
    });
    room.close();
  });
});

describe(`CEL cost bound through RabbitMQ (${RUNTIME})`, () => {
  const exchange = uniqueName("x");
  const queue = uniqueName("q");
  const dlx = uniqueName("dlx");
  const dlq = uniqueName("dlq");
  let broker: Broker;
  let hypha: Hypha;

  before(async () => {
    broker = await connectBroker();
    hypha = await startHypha(rabbitConfig(
      {
        url: RABBITMQ_URL,
        connection_name: uniqueName("cel-limit"),
        exchange: { name: exchange, durable: false, routing_key: "#" },
        consumer: {
          queue,
          dlq: { enabled: true, exchange: dlx, queue: dlq },
        },
      },
      {
        tags: flow(
          { connector: "rabbit", operation: "tags.#" },
          { connector: "sse", operation: "broadcast" },
          { filter: "input.tags.all(t, !input.tags.exists(u, u == t + '!'))" },
        ),
      },
    ));
    await hypha.waitForLine(/INFO\s+connected connector=rabbit/);
  });

  after(async () => {
    await hypha?.stop();
    await broker?.cleanup({ queues: [queue, dlq], exchanges: [exchange, dlx] });
  });

  test("a quadratic filter over 10,000 tags dead-letters that message as cel_limit; the next one arrives", async () => {
    const all = subscribe(hypha.urls.sse);
    await all.opened;
    await broker.publish(exchange, "tags.big", { n: 1, tags: tags(10_000) });
    await broker.publish(exchange, "tags.small", { n: 2, tags: ["a", "b"] });
    assert.deepEqual(await waitForNumbers(all, [2]), [2]);
    let dead: string[] = [];
    await eventually("the refused message in the DLQ", async () => {
      dead = dead.concat(await broker.drain(dlq));
      return dead.length >= 1;
    });
    assert.deepEqual(dead.map((b) => JSON.parse(b).n), [1]);
    const stats = await sourceStats(hypha);
    assert.deepEqual(stats.rejected, { cel_limit: 1 });
    assert.equal(stats.delivered, 1);
    await hypha.waitForLine(
      /WARN\s+rejected message.*cel_limit.*flow tags: filter: evaluation stopped/,
    );
    all.close();
  });
});
