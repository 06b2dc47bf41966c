/**
 * CPU profiles of a Deno server under test, one per measured window, over
 * the V8 inspector (Deno has no --cpu-prof): the server runs with
 * `--inspect=127.0.0.1:PORT`, this connects over the Chrome DevTools
 * Protocol, starts the sampler before a scenario and stops it after. Each
 * profile is written as `.cpuprofile` (open it in Chrome's DevTools) with a
 * summary of self time by function and by where the code lives.
 */

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sleep } from "./sse_load.ts";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

/** A started sampler: `stop` writes the profile under `name`. */
export interface Profiler {
  start(): Promise<void>;
  stop(name: string): Promise<void>;
  close(): void;
}

/** Connects to the inspector on `port`; profiles go to `dir`. */
export async function connectProfiler(
  port: number,
  dir: string,
): Promise<Profiler> {
  let targets: { webSocketDebuggerUrl: string }[] = [];
  for (let i = 0; i < 50 && targets.length === 0; i++) {
    targets = await fetch(`http://127.0.0.1:${port}/json/list`)
      .then((r) => r.json(), () => []);
    if (targets.length === 0) await sleep(100);
  }
  if (targets.length === 0) throw new Error(`no inspector on ${port}`);
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let nextId = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  ws.onmessage = (m) => {
    const reply = JSON.parse(String(m.data));
    waiting.get(reply.id)?.(reply.result);
    waiting.delete(reply.id);
  };
  const call = (method: string, params: unknown = {}) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  // 200 µs: fine enough for functions of a few µs, cheap enough to not
  // move the measurement much.
  await call("Profiler.setSamplingInterval", { interval: 200 });
  return {
    start: async () => void await call("Profiler.start"),
    async stop(name) {
      const { profile } = await call("Profiler.stop") as { profile: Profile };
      const base = join(dir, name.replace(/[^\w.-]+/g, "_"));
      await writeFile(`${base}.cpuprofile`, JSON.stringify(profile));
      await writeFile(`${base}.txt`, summarize(profile));
    },
    close: () => ws.close(),
  };
}

/** Where a function's code lives, for the summary's second table. */
function placeOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === "") return functionName.startsWith("(") ? functionName : "native";
  if (url.includes("/src/")) return "hypha (src/)";
  if (url.includes("/bench/")) return "bench/";
  if (url.includes("node_modules")) return "node_modules";
  if (url.startsWith("ext:") || url.startsWith("node:")) return "deno (ext:)";
  return "other";
}

/** Self time by function (top 30) and by place, in % of samples. */
export function summarize(profile: Profile): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const places = new Map<string, number>();
  for (const id of profile.samples) {
    const frame = byId.get(id)!.callFrame;
    const file = frame.url.split("/").pop() ?? "";
    const key = `${frame.functionName || "(anonymous)"} ${file}:${
      frame.lineNumber + 1
    }`;
    self.set(key, (self.get(key) ?? 0) + 1);
    const place = placeOf(frame);
    places.set(place, (places.get(place) ?? 0) + 1);
  }
  const total = profile.samples.length;
  const busy = total - (places.get("(idle)") ?? 0);
  const pct = (n: number, of: number) =>
    `${(100 * n / Math.max(1, of)).toFixed(1).padStart(5)} %`;
  const lines = [
    `${total} samples over ${
      ((profile.endTime - profile.startTime) / 1e6).toFixed(1)
    } s; ${pct(busy, total)} busy; shares below are of busy samples`,
    "",
    "by place:",
    ...[...places].filter(([p]) => p !== "(idle)").sort((a, b) => b[1] - a[1])
      .map(([p, n]) => `  ${pct(n, busy)}  ${p}`),
    "",
    "by function (self):",
    ...[...self].filter(([k]) => !k.startsWith("(idle)"))
      .sort((a, b) => b[1] - a[1]).slice(0, 30)
      .map(([k, n]) => `  ${pct(n, busy)}  ${k}`),
  ];
  return lines.join("\n") + "\n";
}
