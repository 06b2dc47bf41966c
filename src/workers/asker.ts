/**
 * Questions a delivery thread asks the owning thread, matched to their
 * answers by number.
 *
 * @module
 */

import type { Answer, Ask, FromThread, ToThread } from "./protocol.ts";

/** Asks, and takes the answers in. */
export interface Asker {
  ask(question: Ask): Promise<Answer>;
  answered(message: Extract<ToThread, { t: "answer" }>): void;
}

/** An asker posting through `post`. */
export function createAsker(post: (message: FromThread) => void): Asker {
  const waiting = new Map<
    number,
    { resolve: (a: Answer) => void; reject: (e: Error) => void }
  >();
  let next = 0;
  return {
    ask(question) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        post({ t: "ask", id, ask: question });
      });
    },
    answered({ id, value, error }) {
      const waiter = waiting.get(id);
      if (waiter === undefined) return;
      waiting.delete(id);
      if (error !== undefined) waiter.reject(new Error(error));
      else waiter.resolve(value!);
    },
  };
}
