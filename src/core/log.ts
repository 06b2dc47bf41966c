/**
 * Line-oriented logs: `time level message key=value ...` or one JSON object
 * per line, written through a sink the runtime provides (stderr). Values that could
 * hold secrets are never passed here; see `redactUrl`.
 *
 * @module
 */

import { errorMessage } from "./errors.ts";

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

/** `text`: `time LEVEL msg k=v`; `json`: one object per line. */
export type LogFormat = "text" | "json";

/** Creates a logger that writes lines at `level` and above to `sink`. */
export function createLogger(
  sink: (line: string) => void,
  level: Level = "info",
  format: LogFormat = "text",
): Logger {
  const render = format === "json" ? jsonLine : textLine;
  const at = (lvl: Level) => (message: string, fields?: Fields) => {
    if (RANK[lvl] < RANK[level]) return;
    sink(render(new Date().toISOString(), lvl, message, fields));
  };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
}

/**
 * What a log line must not carry raw: C0 controls (ESC starts a terminal
 * escape, CR and LF forge lines), DEL, C1 controls (U+0085 is a line break
 * to some readers, U+009B a CSI) and the Unicode line and paragraph
 * separators (JSON.stringify leaves those last three raw).
 */
// deno-lint-ignore no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, "g");
/** What is left raw after JSON.stringify (it escapes C0 itself). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029]/g;

/** `\u001b` for ESC and so on: the JSON spelling, which every reader knows. */
function escapeOne(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** `text` with every unsafe character escaped. */
function escapeControls(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeOne) : text;
}

/** A field value: bare when plain, else quoted with every control escaped. */
function textValue(text: string): string {
  if (text !== "" && !/[\s"=]/.test(text) && !UNSAFE.test(text)) return text;
  return JSON.stringify(text).replace(UNSAFE_IN_JSON, escapeOne);
}

function textLine(
  time: string,
  level: Level,
  message: string,
  fields: Fields | undefined,
): string {
  let line = `${time} ${level.toUpperCase().padEnd(5)} ${
    escapeControls(message)
  }`;
  for (const [key, value] of Object.entries(fields ?? {})) {
    if (value === undefined) continue;
    line += ` ${escapeControls(key)}=${textValue(String(value))}`;
  }
  return line;
}

/** Fields sit beside time, level and msg; those three win a name clash. */
function jsonLine(
  time: string,
  level: Level,
  message: string,
  fields: Fields | undefined,
): string {
  const line: Record<string, unknown> = { time, level, msg: message };
  for (const [key, value] of Object.entries(fields ?? {})) {
    if (!(key in line)) line[key] = value;
  }
  return JSON.stringify(line).replace(UNSAFE_IN_JSON, escapeOne);
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
 * Calls `log(0)` at most once per `intervalMs` for a key. Calls in between
 * are counted, and when the window ends `log(n)` reports the `n` that were
 * not logged (with the arguments of the latest), so a flood stays readable
 * and the logged counts add up to what was counted.
 */
export function rateLimited(
  intervalMs: number,
  now: () => number = Date.now,
): (key: string, log: (suppressed: number) => void) => void {
  interface Window {
    at: number;
    suppressed: number;
    latest: (suppressed: number) => void;
    timer: ReturnType<typeof setTimeout> | undefined;
  }
  const windows = new Map<string, Window>();
  const flush = (key: string, window: Window) => {
    window.timer = undefined;
    if (windows.get(key) === window) windows.delete(key);
    if (window.suppressed > 0) window.latest(window.suppressed);
  };
  return (key, log) => {
    const t = now();
    const window = windows.get(key);
    if (window !== undefined && t - window.at < intervalMs) {
      window.suppressed++;
      window.latest = log;
      window.timer ??= setTimeout(
        () => flush(key, window),
        window.at + intervalMs - t,
      );
      return;
    }
    if (window !== undefined) {
      clearTimeout(window.timer);
      flush(key, window);
    }
    // Keys are codes and connector names; the bound is a guard, not a cache.
    if (windows.size > 1000) {
      for (const [k, w] of windows) {
        clearTimeout(w.timer);
        flush(k, w);
      }
    }
    windows.set(key, { at: t, suppressed: 0, latest: log, timer: undefined });
    log(0);
  };
}

/**
 * Logs an error a fetch handler threw (the client got a 500): its kind and
 * message, never a request or stack, at most once per 10 s per connector
 * and kind, with the count of the rest when the window ends.
 */
export function internalErrorLog(
  log: Logger,
): (connector: string, error: unknown) => void {
  const limited = rateLimited(10_000);
  return (connector, error) => {
    const kind = error instanceof Error ? error.name : typeof error;
    const reason = errorMessage(error);
    limited(
      `${connector} ${kind}`,
      (suppressed) =>
        log.error("internal error; answered 500", {
          connector,
          error: kind,
          reason: reason.slice(0, 200),
          count: suppressed || undefined,
        }),
    );
  };
}
