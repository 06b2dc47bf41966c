/**
 * AMQP topic patterns: words separated by dots, `*` matches exactly one word
 * and `#` zero or more. Compiled once per flow at start.
 *
 * @module
 */

/** Compiles a topic pattern to a predicate over routing keys. */
export function compileTopic(pattern: string): (key: string) => boolean {
  if (pattern === "#") return () => true;
  if (!/[*#]/.test(pattern)) return (key) => key === pattern;
  // Every word is matched with its leading dot, against "." + key, so that
  // `#` can stand for zero words without leaving a dangling separator.
  const source = pattern.split(".").map((word) =>
    word === "#"
      ? "(?:\\.[^.]*)*"
      : word === "*"
      ? "\\.[^.]*"
      : `\\.${escapeRegExp(word)}`
  ).join("");
  const regex = new RegExp(`^${source}$`);
  return (key) => regex.test(`.${key}`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
