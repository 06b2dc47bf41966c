/**
 * The Deno internals hypha's production path relies on (docs/architecture.md,
 * runtime internals): each test fails if hypha would silently lose one.
 * In process: real Deno servers on real ports, no child process.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startApp } from "../src/app.ts";
import { parseConfig } from "../src/config/load.ts";
import { createLogger } from "../src/core/log.ts";
import { acceptLoop } from "../src/runtime/deno_accept.ts";
import {
  checkServer,
  type Handler,
  serveOnConnection,
} from "../src/runtime/deno_connection.ts";
import { connectionInfo } from "../src/runtime/deno_request.ts";
import { serveDeno } from "../src/runtime/deno_serve.ts";
import {
  ADMIN,
  type ConfigInput,
  merge,
  sse,
  toml,
} from "./support/config_builder.ts";

const ON_DENO = !("Bun" in globalThis);

/** A fake `Deno` whose internal holds `fn`. */
function fakeDeno(fn: unknown): object {
  const key = Symbol("internal");
  return { internal: key, [key]: { serveHttpOnConnection: fn } };
}

describe("the serveHttpOnConnection internal's shape is checked at start", () => {
  test("a missing internal, a non-function and a changed parameter list are refused with the reason", () => {
    assert.equal(
      serveOnConnection({}),
      "this Deno has no serveHttpOnConnection internal",
    );
    assert.match(
      serveOnConnection(fakeDeno({ call: true })) as string,
      /is a object, not a function/,
    );
    assert.match(
      serveOnConnection(
        fakeDeno((_conn: unknown, _handler: unknown) => {}),
      ) as string,
      /takes 2 parameters, not the 5 hypha passes .*its shape changed/,
    );
    const five = (
      _a: unknown,
      _b: unknown,
      _c: unknown,
      _d: unknown,
      _e: unknown,
    ) => {};
    assert.equal(serveOnConnection(fakeDeno(five)), five);
  });

  test("a server of the wrong shape is refused when a connection is served", () => {
    assert.throws(() => checkServer({}), /returned no server with finished/);
    assert.throws(() => checkServer(undefined), TypeError);
  });
});

if (ON_DENO) {
  describe("Deno's own internals, as this Deno has them", () => {
    test("this Deno's serveHttpOnConnection passes the shape check", () => {
      assert.equal(typeof serveOnConnection(), "function");
    });

    /** Fails if header() would fall back to request.headers. */
    const readHeader = (
      request: Request,
      info: Deno.ServeHandlerInfo<Deno.NetAddr>,
    ) => {
      // Any read of request.headers throws: a silent fallback shows.
      Object.defineProperty(request, "headers", {
        get() {
          throw new Error("request.headers was read");
        },
      });
      const header = connectionInfo(request, info).header;
      if (header === undefined) {
        return new Response("no fast path", { status: 500 });
      }
      return new Response(`${header("x-probe")}|${header("x-absent")}`);
    };

    test("one header is read through Deno.serve's request object, never request.headers", async () => {
      const server = Deno.serve({
        hostname: "127.0.0.1",
        port: 0,
        onListen() {},
      }, readHeader);
      try {
        const response = await fetch(`http://127.0.0.1:${server.addr.port}/`, {
          headers: { "x-probe": "fast" },
        });
        assert.equal(await response.text(), "fast|null");
        assert.equal(response.status, 200);
      } finally {
        await server.shutdown();
      }
    });

    test("the same through serveHttpOnConnection, the guarded listeners' server", async () => {
      const onConnection = serveOnConnection();
      assert.equal(typeof onConnection, "function");
      if (typeof onConnection !== "function") return;
      const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const servers: Deno.HttpServer<Deno.NetAddr>[] = [];
      const accepting = (async () => {
        const conn = await tcp.accept();
        servers.push(checkServer(
          onConnection(
            conn,
            undefined,
            readHeader as Handler,
            () => new Response(null, { status: 500 }),
            () => {},
          ),
        ));
      })();
      try {
        const response = await fetch(`http://127.0.0.1:${tcp.addr.port}/`, {
          headers: { "x-probe": "guarded" },
        });
        assert.equal(await response.text(), "guarded|null");
      } finally {
        await accepting;
        tcp.close();
        await Promise.all(servers.map((s) => s.shutdown()));
      }
    });

    test("a connection whose serving fails is closed and the accept loop serves the next ones", async () => {
      const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const errors: string[] = [];
      const taken: Deno.Conn[] = [];
      let stopping = false;
      let n = 0;
      const loop = acceptLoop(tcp, (conn) => {
        n++;
        if (n === 1) throw new Error("serving threw");
        if (n === 2) return Promise.reject(new Error("serving rejected"));
        taken.push(conn);
        return undefined;
      }, {
        stopping: () => stopping,
        onConnectionError: (error) => errors.push((error as Error).message),
      });
      try {
        for (let i = 0; i < 3; i++) {
          const client = await Deno.connect({
            hostname: "127.0.0.1",
            port: tcp.addr.port,
          });
          // The failed ones are closed by the loop: their reads end.
          if (i < 2) assert.equal(await client.read(new Uint8Array(1)), null);
          client.close();
        }
        const deadline = Date.now() + 10_000;
        while (taken.length === 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 10));
        }
        assert.equal(taken.length, 1, "the third connection was served");
        assert.deepEqual(errors, ["serving threw", "serving rejected"]);
      } finally {
        stopping = true;
        tcp.close();
        await loop;
        for (const c of taken) c.close();
      }
    });

    test("when a listener's accept loop dies, /readyz is 503 and says which and why", async () => {
      const { config } = parseConfig(
        toml(merge<ConfigInput>({
          connector: { sse: sse({ connection_guard: true }) },
        }, ADMIN)),
        "test.toml",
        {},
      );
      const lines: string[] = [];
      const dying: typeof acceptLoop = async () => {
        await new Promise((r) => setTimeout(r, 10));
        throw new Error("the loop broke");
      };
      const app = await startApp(config, {
        serve: (listener) =>
          serveDeno(
            listener,
            listener.connector === "sse" ? dying : acceptLoop,
          ),
        log: createLogger((line) => lines.push(line), "info"),
      });
      try {
        const admin = lines.map((l) =>
          /connector=service\.admin url=(\S+)/.exec(l)?.[1]
        )
          .find((u) => u !== undefined)!;
        let body = "";
        for (let i = 0; i < 200 && !body.includes("the loop broke"); i++) {
          const response = await fetch(new URL("/readyz", admin));
          body = await response.text();
          if (!body.includes("the loop broke")) {
            await new Promise((r) => setTimeout(r, 10));
          } else assert.equal(response.status, 503);
        }
        assert.match(
          body,
          /sse: cannot accept connections \(stopped accepting until restarted: the loop broke\)/,
        );
        assert.ok(
          lines.some((l) =>
            /ERROR\s+cannot accept connections any more; restart hypha connector=sse/
              .test(l)
          ),
          lines.join("\n"),
        );
      } finally {
        await app.stop();
      }
    });
  });
}
