/**
 * Line-oriented logs: `time level message key=value ...`, one line per call,
 * written through a sink the runtime provides (stderr). Values that could
 * hold secrets are never passed here; see `redactUrl`.
 *
 * @module
 */

/** Log levels, least to most severe. */
export type Level = "debug" | "info" | "warn" | "error";

const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Fields printed after the message. */
export type Fields = Readonly<
  Record<string, string | number | boolean | undefined>
>;

/** A logger; cheap to call when the level is off. */
export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
}

/** Creates a logger that writes lines at `level` and above to `sink`. */
export function createLogger(
  sink: (line: string) => void,
  level: Level = "info",
): Logger {
  const at = (lvl: Level) => (message: string, fields?: Fields) => {
    if (RANK[lvl] < RANK[level]) return;
    let line = `${new Date().toISOString()} ${
      lvl.toUpperCase().padEnd(5)
    } ${message}`;
    if (fields) {
      for (const [key, value] of Object.entries(fields)) {
        if (value === undefined) continue;
        const text = String(value);
        line += ` ${key}=${
          /[\s"=]/.test(text) || text === "" ? JSON.stringify(text) : text
        }`;
      }
    }
    sink(line);
  };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
}

/** A URL with its password replaced by `***`, safe to log. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable url)";
  }
}

/**
 * Calls `log` at most once per `intervalMs` for a key, and reports how many
 * calls were suppressed in between, so a flood of bad messages stays readable.
 */
export function rateLimited(
  intervalMs: number,
  now: () => number = Date.now,
): (key: string, log: (suppressed: number) => void) => void {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (key, log) => {
    const t = now();
    const entry = last.get(key);
    if (entry !== undefined && t - entry.at < intervalMs) {
      entry.suppressed++;
      return;
    }
    if (last.size > 1000) last.clear();
    last.set(key, { at: t, suppressed: 0 });
    log(entry?.suppressed ?? 0);
  };
}
