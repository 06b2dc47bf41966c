/**
 * Line-oriented logs: `time level message key=value ...` or one JSON object
 * per line, written through a sink the runtime provides (stderr). Values that could
 * hold secrets are never passed here; see `redactUrl`.
 *
 * @module
 */

import { errorMessage } from "./errors.ts";
import { rateLimited } from "./rate_limited.ts";

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
 * Logs an error a fetch handler threw (the client got a 500): its kind and
 * message, never a request or stack, at most once per 10 s per connector
 * and kind, with the count of the rest when the window ends.
 */
export function internalErrorLog(log: Logger): InternalErrorLog {
  const limited = rateLimited(10_000);
  const logged = (connector: string, error: unknown) => {
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
  return Object.assign(logged, { flush: limited.flush });
}

/** `internalErrorLog`'s logger; `flush()` at stop logs the counts. */
export interface InternalErrorLog {
  (connector: string, error: unknown): void;
  flush(): void;
}
