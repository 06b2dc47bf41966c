/**
 * Mercure topic selectors: `*`, an exact string, or an RFC 6570 URI
 * template, matched as the reference hub matches them (in order: `*`,
 * equality, then the template; a selector that is not a valid template is
 * a raw string). Templates are compiled once per distinct selector and
 * results are cached, bounded, since the same few selectors are asked about
 * the same topics over and over.
 *
 * @module
 */

import { Route as TemplateRoute } from "uri-template-router";

/** A compiled template: `resolveURI` is undefined when the topic misses. */
interface Route {
  resolveURI(uri: string): unknown;
}

/**
 * A template and its literal ends: expansion copies literals verbatim, so a
 * topic that does not start with the text before the first expression (or
 * end with the text after the last) cannot match. Checking that first spares
 * the state machine (~15 µs a call, measured in bench/mercure_match.ts) for
 * nearly every template a topic is tested against.
 */
export interface CompiledTemplate {
  readonly route: Route;
  readonly prefix: string;
  readonly suffix: string;
}

/** Literal text that stands for itself in a URI (no pct-encoding needed). */
const URI_TEXT = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;

/** The reserved selector matching every topic. */
export const ANY_TOPIC = "*";

/** Bound of each cache: beyond it the oldest entry goes. */
const CACHE_SIZE = 50_000;

const routes = new Map<string, CompiledTemplate | null>();
const results = new Map<string, boolean>();

/** Remembers `value` under `key`, dropping the oldest entry past the bound. */
function remember<T>(cache: Map<string, T>, key: string, value: T): T {
  if (cache.size >= CACHE_SIZE) {
    cache.delete(cache.keys().next().value as string);
  }
  cache.set(key, value);
  return value;
}

/** True when `selector` may be a template: it has an expression. */
export function isTemplate(selector: string): boolean {
  return selector !== ANY_TOPIC && selector.includes("{");
}

/** The compiled template, or null when the selector is a raw string. */
export function compileTemplate(selector: string): CompiledTemplate | null {
  const known = routes.get(selector);
  if (known !== undefined) return known;
  let compiled: CompiledTemplate | null = null;
  try {
    const route = new TemplateRoute(selector) as Route;
    const prefix = selector.slice(0, selector.indexOf("{"));
    const suffix = selector.slice(selector.lastIndexOf("}") + 1);
    compiled = {
      route,
      prefix: URI_TEXT.test(prefix) ? prefix : "",
      suffix: URI_TEXT.test(suffix) ? suffix : "",
    };
  } catch {
    // Not a valid URI template: the reference hub takes it as a string.
  }
  return remember(routes, selector, compiled);
}

/** True when `topic` matches `selector` (see the module comment). */
export function selectorMatches(selector: string, topic: string): boolean {
  if (selector === ANY_TOPIC || selector === topic) return true;
  if (!isTemplate(selector)) return false;
  // NUL cannot occur in a selector or topic that came through a URL.
  const key = `${selector}\u0000${topic}`;
  const known = results.get(key);
  if (known !== undefined) return known;
  const compiled = compileTemplate(selector);
  return remember(
    results,
    key,
    compiled !== null && couldMatch(compiled, topic) &&
      compiled.route.resolveURI(topic) !== undefined,
  );
}

/** False when `topic` lacks the template's literal ends (no match then). */
export function couldMatch(t: CompiledTemplate, topic: string): boolean {
  return topic.startsWith(t.prefix) && topic.endsWith(t.suffix) &&
    topic.length >= t.prefix.length + t.suffix.length;
}

/** True when one of `selectors` matches one of `topics`. */
export function anyMatches(
  selectors: readonly string[],
  topics: readonly string[],
): boolean {
  for (const selector of selectors) {
    for (const topic of topics) {
      if (selectorMatches(selector, topic)) return true;
    }
  }
  return false;
}
