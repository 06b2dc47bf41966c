/**
 * Who may receive a private Mercure update: a subscriber whose token's
 * `mercure.subscribe` selectors match one of the update's topics. Asked
 * only of the update's recipients (the topic index found them), and answered
 * once per distinct selector per update, however many subscribers hold it.
 *
 * @module
 */

import type { Connection } from "./connection.ts";
import { selectorMatches } from "./topic_selector.ts";

/** A predicate over recipients of a private update with these topics. */
export function privateGate(
  topics: readonly string[],
): (c: Connection) => boolean {
  const answers = new Map<string, boolean>();
  const allows = (selector: string) => {
    let yes = answers.get(selector);
    if (yes === undefined) {
      yes = topics.some((topic) => selectorMatches(selector, topic));
      answers.set(selector, yes);
    }
    return yes;
  };
  return (c) => c.topics !== undefined && c.topics.allowed.some(allows);
}
