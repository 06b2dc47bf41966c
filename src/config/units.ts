/**
 * Durations in Go's forms ("500ms", "30s", "1m30s", "1h2m3.5s", "0") and sizes (1048576, "256KiB",
 * "1MiB") as written in the config, converted to milliseconds and bytes.
 *
 * @module
 */

// Go's time.ParseDuration forms, without a sign (no duration here may be
// negative): "1h2m3.5s", ".5s", "250us", and a bare "0".
const NUMBER = String.raw`(?:\d+(?:\.\d*)?|\.\d+)`;
const UNIT = "ns|us|µs|μs|ms|s|m|h";
const DURATION = new RegExp(`^(?:0|(?:${NUMBER}(?:${UNIT}))+)$`);
const DURATION_PART = new RegExp(`(${NUMBER})(${UNIT})`, "g");
const MS_PER_UNIT: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds in a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) {
    ms += Number(amount) * MS_PER_UNIT[unit];
  }
  // A tiny non-zero duration must not round to 0, which means "off".
  return ms > 0 ? Math.max(1, Math.round(ms)) : 0;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$/;
const BYTES_PER_UNIT: Record<string, number> = {
  B: 1,
  KB: 1e3,
  KiB: 1024,
  MB: 1e6,
  MiB: 1024 ** 2,
  GB: 1e9,
  GiB: 1024 ** 3,
};

/** Bytes in a size (integer or string with unit), or undefined when it is not one. */
export function parseSize(value: number | string): number | undefined {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  }
  const match = SIZE.exec(value.trim());
  if (match === null) return undefined;
  return Math.floor(Number(match[1]) * BYTES_PER_UNIT[match[2] ?? "B"]);
}
