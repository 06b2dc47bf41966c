/**
 * The markdown table of bench/compare.ts. A ratio is hypha's cost relative
 * to a peer: hypha / peer for costs (KB, µs, ms), peer / hypha for rates;
 * so <= 1.00 always means hypha is at least as good as that peer.
 */

import type { Cost } from "./scenarios.ts";

/** results[row][server] */
export type Results = Record<string, Record<string, number | Cost>>;

const PEERS = ["nchan", "naive deno", "naive bun"];
const HYPHAS = ["hypha deno", "hypha bun"];
/** Columns shown only when a run has them (--only hypha-deno-w2, nchan-w2). */
const THREADED = ["nchan w2", "hypha deno w2", "hypha bun w2"];

interface Row {
  readonly key: string;
  readonly title: (c: Record<string, number>) => string;
  /** Higher is better (a rate). */
  readonly rate?: boolean;
  /** Peers' numbers come from this row (they have no batch form). */
  readonly peersFrom?: string;
}

const ROWS: Row[] = [
  {
    key: "idle",
    title: (c) => `${fmt(c.IDLE)} idle connections: KB per connection`,
  },
  { key: "connects", title: () => "connects per second", rate: true },
  {
    key: "wide",
    title: (c) => `broadcast to ${fmt(c.IDLE)}, 5 events/s: µs / p99 ms`,
  },
  {
    key: "fast",
    title: (c) => `broadcast to ${fmt(c.WIDE)}, 50 events/s: µs / p99 ms`,
  },
  {
    key: "rooms",
    title: (c) =>
      `${
        fmt(c.ROOM_CLIENTS)
      } clients in 100 rooms, 500 room events/s: µs / p99 ms`,
  },
  {
    key: "rooms_batched",
    title: () =>
      `... the same, hypha publishing 50 per POST every 100 ms (peers: one per POST): µs / p99 ms`,
    peersFrom: "rooms",
  },
  {
    key: "single",
    title: () => "room events/s published, one per POST",
    rate: true,
  },
  {
    key: "batch",
    title: () =>
      "room events/s published, 100 per POST (hypha batch; peers: one per POST)",
    rate: true,
    peersFrom: "single",
  },
  {
    key: "capacity",
    title: (c) =>
      `capacity: highest room events/s into ${
        fmt(c.ROOM_CLIENTS)
      } in 100 rooms, all delivered, p99 <= 100 ms`,
    rate: true,
  },
  {
    key: "capacity_generator",
    title: () => "... load generator CPU at that rate, % of one core",
  },
  {
    key: "amqp_rate",
    title: (c) => `RabbitMQ messages/s routed to ${fmt(c.AMQP_SUBSCRIBERS)}`,
    rate: true,
  },
  {
    key: "amqp_rooms",
    title: (c) =>
      `RabbitMQ 1,000 msg/s into ${
        fmt(c.ROOM_CLIENTS)
      } in 100 rooms: µs / p99 ms`,
  },
];

/**
 * Cell by cell, the median over rounds (of µs and of p99 apart); a cost
 * keeps the worst round's delivery, so a loss is never hidden.
 */
export function medians(rounds: readonly Results[]): Results {
  const out: Results = {};
  const cells = new Set(
    rounds.flatMap((r) =>
      Object.entries(r).flatMap(([row, servers]) =>
        Object.keys(servers).map((server) => `${row}\t${server}`)
      )
    ),
  );
  for (const cell of cells) {
    const [row, server] = cell.split("\t");
    const values = rounds.map((r) => r[row]?.[server])
      .filter((v) => v !== undefined);
    (out[row] ??= {})[server] = typeof values[0] === "number"
      ? median(values as number[])
      : medianCost(values as Cost[]);
  }
  return out;
}

function medianCost(costs: readonly Cost[]): Cost {
  const worst = costs.reduce((w, c) =>
    c.expected - c.delivered > w.expected - w.delivered ? c : w
  );
  return {
    us: median(costs.map((c) => c.us)),
    p99: median(costs.map((c) => c.p99)),
    delivered: worst.delivered,
    expected: worst.expected,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid]
    : (sorted[mid - 1] + sorted[mid]) / 2;
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return "n/a";
  return n >= 100
    ? Math.round(n).toLocaleString("en-US")
    : n.toFixed(n >= 10 ? 1 : 2);
}

function cell(value: number | Cost | undefined): string {
  if (value === undefined) return "n/a";
  if (typeof value === "number") return fmt(value);
  const lost = value.delivered < value.expected
    ? ` (lost ${fmt(value.expected - value.delivered)})`
    : "";
  return `${fmt(value.us)} / ${fmt(value.p99)}${lost}`;
}

/** The main number of a cell: the value, or µs of a cost. */
const main = (v: number | Cost) => typeof v === "number" ? v : v.us;

function ratio(row: Row, hypha: number | Cost, peer: number | Cost): string {
  const r = row.rate ? main(peer) / main(hypha) : main(hypha) / main(peer);
  if (typeof hypha === "number" || typeof peer === "number") {
    return r.toFixed(2);
  }
  return `${r.toFixed(2)} / ${(hypha.p99 / peer.p99).toFixed(2)}`;
}

/** The best peer of a row (lowest cost or highest rate). */
function bestPeer(row: Row, values: Record<string, number | Cost>) {
  const present = PEERS.filter((p) => values[p] !== undefined);
  if (present.length === 0) return undefined;
  return present.reduce((a, b) =>
    (row.rate
        ? main(values[b]) > main(values[a])
        : main(values[b]) < main(values[a]))
      ? b
      : a
  );
}

/** The table, with a header saying when and at what scale. */
export function table(
  results: Results,
  run: {
    date: string;
    scale: number;
    seconds: number;
    counts: Record<string, number>;
  },
): string {
  const threaded = THREADED.filter((t) =>
    Object.values(results).some((r) => r[t] !== undefined)
  );
  const columns = [...PEERS, ...HYPHAS, ...threaded];
  // With threads: each threaded hypha against one thread and against nchan w2.
  const pairs: [string, string][] = threaded.filter((t) => t !== "nchan w2")
    .flatMap((t) => {
      const one = t.replace(/ w2$/, "");
      return threaded.includes("nchan w2")
        ? [[t, one], [t, "nchan w2"]] as [string, string][]
        : [[t, one]] as [string, string][];
    });
  const lines = [
    `Run ${run.date}, scale ${run.scale}, ${run.seconds} s per rate scenario.`,
    "Ratios: hypha relative to the peer (cost / cost, or rate / rate inverted): <= 1.00 means hypha is at least as good.",
    "",
    `| scenario | ${
      columns.join(" | ")
    } | hypha deno / naive deno | hypha bun / naive bun | hypha deno / best peer | hypha bun / best peer |${
      pairs.map(([a, b]) => ` ${a} / ${b} |`).join("")
    }`,
    `|---|${"---|".repeat(columns.length + 4 + pairs.length)}`,
  ];
  for (const row of ROWS) {
    const values = { ...results[row.key] };
    if (row.peersFrom !== undefined) {
      for (const p of PEERS) {
        const v = results[row.peersFrom]?.[p];
        if (v !== undefined) values[p] = v;
      }
    }
    if (Object.keys(values).length === 0) continue;
    const best = bestPeer(row, values);
    const vs = (hypha: string, peer: string | undefined) =>
      peer !== undefined && values[hypha] !== undefined &&
        values[peer] !== undefined
        ? ratio(row, values[hypha], values[peer])
        : "n/a";
    lines.push(
      `| ${row.title(run.counts)} | ${
        columns.map((s) => cell(values[s])).join(" | ")
      } | ${vs("hypha deno", "naive deno")} | ${
        vs("hypha bun", "naive bun")
      } | ${vs("hypha deno", best)}${best ? ` (${best})` : ""} | ${
        vs("hypha bun", best)
      }${best ? ` (${best})` : ""} |${
        pairs.map(([a, b]) => ` ${vs(a, b)} |`).join("")
      }`,
    );
  }
  return lines.join("\n");
}
