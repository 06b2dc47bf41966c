/**
 * Mercure subscribers indexed by topic selector, so an update touches only
 * its recipients and never tests selectors per subscriber: exact selectors
 * are looked up like rooms, `*` is one set, and each distinct template is
 * one entry however many subscribers share it. Which templates match a
 * topic is cached per topic; a template added later is tested against a
 * cached topic once, when the topic next comes by.
 *
 * @module
 */

import type { Connection } from "./connection.ts";
import {
  ANY_TOPIC,
  type CompiledTemplate,
  compileTemplate,
  couldMatch,
  isTemplate,
  selectorMatches,
} from "./topic_selector.ts";

/** One distinct template selector and the connections that use it. */
interface TemplateEntry {
  readonly selector: string;
  readonly template: CompiledTemplate;
  readonly connections: Set<Connection>;
  /** Its last connection left: a later subscriber gets a new entry. */
  dead: boolean;
}

/** Templates already tested against a topic, and the ones that matched. */
interface TopicMatches {
  testedUpTo: number;
  readonly matches: TemplateEntry[];
}

/** The index of one hub's Mercure subscribers. */
export interface TopicIndex {
  add(c: Connection): void;
  remove(c: Connection): void;
  /** Pushes the sets of connections subscribed to one of `topics`. */
  collect(
    topics: readonly string[],
    out: (ReadonlySet<Connection> | undefined)[],
  ): void;
  /** Distinct selectors in use. */
  readonly selectors: number;
}

/** Topics whose matching templates are remembered; beyond, the oldest go. */
const TOPIC_CACHE_SIZE = 10_000;

/** Creates an empty index. */
export function createTopicIndex(): TopicIndex {
  const exact = new Map<string, Set<Connection>>();
  const any = new Set<Connection>();
  const templates = new Map<string, TemplateEntry>();
  /** Every template entry in the order it was added (dead ones too). */
  let order: TemplateEntry[] = [];
  let dead = 0;
  const cache = new Map<string, TopicMatches>();

  const enter = (selector: string, c: Connection) => {
    if (selector === ANY_TOPIC) return void any.add(c);
    const template = isTemplate(selector) ? compileTemplate(selector) : null;
    if (template === null) {
      let set = exact.get(selector);
      if (set === undefined) exact.set(selector, set = new Set());
      return void set.add(c);
    }
    let entry = templates.get(selector);
    if (entry === undefined) {
      entry = { selector, template, connections: new Set(), dead: false };
      templates.set(selector, entry);
      order.push(entry);
    }
    entry.connections.add(c);
  };

  const leave = (selector: string, c: Connection) => {
    if (selector === ANY_TOPIC) return void any.delete(c);
    const set = exact.get(selector);
    if (set !== undefined) {
      set.delete(c);
      if (set.size === 0) exact.delete(selector);
      return;
    }
    const entry = templates.get(selector);
    if (entry === undefined) return;
    entry.connections.delete(c);
    if (entry.connections.size > 0) return;
    entry.dead = true;
    templates.delete(selector);
    // Dead entries cost a skip in cached lists: sweep once they dominate.
    if (++dead > 64 && dead > templates.size) {
      order = order.filter((e) => !e.dead);
      dead = 0;
      cache.clear();
    }
  };

  const matching = (topic: string): readonly TemplateEntry[] => {
    let known = cache.get(topic);
    if (known === undefined) {
      if (cache.size >= TOPIC_CACHE_SIZE) {
        cache.delete(cache.keys().next().value as string);
      }
      cache.set(topic, known = { testedUpTo: 0, matches: [] });
    }
    for (let i = known.testedUpTo; i < order.length; i++) {
      const entry = order[i];
      if (
        !entry.dead && couldMatch(entry.template, topic) &&
        selectorMatches(entry.selector, topic)
      ) {
        known.matches.push(entry);
      }
    }
    known.testedUpTo = order.length;
    return known.matches;
  };

  return {
    add(c) {
      for (const selector of c.topics?.selectors ?? []) enter(selector, c);
    },
    remove(c) {
      for (const selector of c.topics?.selectors ?? []) leave(selector, c);
    },
    collect(topics, out) {
      if (any.size > 0) out.push(any);
      for (const topic of topics) {
        out.push(exact.get(topic));
        if (order.length === 0) continue;
        for (const entry of matching(topic)) {
          if (!entry.dead) out.push(entry.connections);
        }
      }
    },
    get selectors() {
      return exact.size + templates.size + (any.size > 0 ? 1 : 0);
    },
  };
}
