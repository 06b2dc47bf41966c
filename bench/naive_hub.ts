/**
 * The naive reference hub of bench/compare.ts: no hypha code, nothing but
 * what any SSE hub must do. A Set of stream controllers per room ("" is
 * everyone), one pre-encoded `data:` frame per event enqueued to each.
 * No history, no ids, no heartbeat, no slow-client limit, no auth.
 *
 *   GET  /events[?room=r]   subscribe
 *   POST /publish[/r]       send the body to everyone (or to room r)
 *
 *   deno run -A bench/naive_hub.ts PORT [EXCHANGE QUEUE]
 *   bun run bench/naive_hub.ts PORT [EXCHANGE QUEUE]
 *
 * With an exchange and a queue it also consumes RabbitMQ, as naively as
 * over HTTP: the queue bound with `#`, no acks (`noAck`), routing key
 * `room.event` to the room named by the body's `room`, anything else to
 * everyone. Prints `listening <port>` once it accepts connections (and
 * consumes).
 */

import { AMQPClient } from "@cloudamqp/amqp-client";

type Controller = ReadableStreamDefaultController<Uint8Array>;

const rooms = new Map<string, Set<Controller>>();
const encoder = new TextEncoder();
const HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
};

function subscribe(room: string): Response {
  let me: Controller;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      me = controller;
      let set = rooms.get(room);
      if (set === undefined) rooms.set(room, set = new Set());
      set.add(controller);
      controller.enqueue(encoder.encode(": hi\n\n"));
    },
    cancel() {
      rooms.get(room)?.delete(me);
    },
  });
  return new Response(stream, { headers: HEADERS });
}

async function publish(room: string, request: Request): Promise<Response> {
  const delivered = send(room, await request.text());
  return new Response(`{"delivered":${delivered}}`, { status: 202 });
}

function send(room: string, body: string): number {
  const frame = encoder.encode(`data: ${body}\n\n`);
  const set = rooms.get(room);
  let delivered = 0;
  for (const controller of set ?? []) {
    try {
      controller.enqueue(frame);
      delivered++;
    } catch {
      set!.delete(controller);
    }
  }
  return delivered;
}

/** Consumes `queue` (bound to `exchange`) and sends each message on. */
async function consume(exchange: string, queue: string): Promise<void> {
  const client = new AMQPClient("amqp://guest:guest@127.0.0.1:5672");
  await client.connect();
  const channel = await client.channel();
  await channel.exchangeDeclare(exchange, "topic", { durable: false });
  await channel.queueDeclare(queue, { durable: false });
  await channel.queueBind(queue, exchange, "#");
  await channel.basicConsume(queue, { noAck: true }, (message) => {
    const body = message.bodyString() ?? "";
    const room = message.routingKey === "room.event"
      ? String(JSON.parse(body).room)
      : "";
    send(room, body);
  });
}

export function handle(request: Request): Response | Promise<Response> {
  const url = new URL(request.url);
  if (request.method === "GET" && url.pathname === "/events") {
    return subscribe(url.searchParams.get("room") ?? "");
  }
  if (request.method === "POST" && url.pathname.startsWith("/publish")) {
    return publish(url.pathname.slice("/publish/".length), request);
  }
  return new Response("not found", { status: 404 });
}

const [portArg, exchange, queue] = "Deno" in globalThis
  ? Deno.args
  : process.argv.slice(2);
const port = Number(portArg ?? 0);
if (import.meta.main && exchange !== undefined && queue !== undefined) {
  await consume(exchange, queue);
}
if (!import.meta.main) {
  // Imported (bench/connect_cost.ts): the handler only, no listener.
} else if ("Bun" in globalThis) {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    idleTimeout: 0,
    fetch: handle,
  });
  console.log(`listening ${server.port}`);
} else {
  Deno.serve({
    hostname: "127.0.0.1",
    port,
    onListen: ({ port }) => console.log(`listening ${port}`),
  }, handle);
}
