/**
 * The naive reference hub of bench/compare.ts: no hypha code, nothing but
 * what any SSE hub must do. A Set of stream controllers per room ("" is
 * everyone), one pre-encoded `data:` frame per event enqueued to each.
 * No history, no ids, no heartbeat, no slow-client limit, no auth.
 *
 *   GET  /events[?room=r]   subscribe
 *   POST /publish[/r]       send the body to everyone (or to room r)
 *
 *   deno run -A bench/naive_hub.ts PORT      bun run bench/naive_hub.ts PORT
 *
 * Prints `listening <port>` once it accepts connections.
 */

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
  const frame = encoder.encode(`data: ${await request.text()}\n\n`);
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
  return new Response(`{"delivered":${delivered}}`, { status: 202 });
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

const port = Number(
  ("Deno" in globalThis ? Deno.args : process.argv.slice(2))[0] ?? 0,
);
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
