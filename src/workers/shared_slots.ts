/**
 * Connection limits held across delivery threads. The global count is one
 * integer in shared memory, taken with compare-and-swap, so threads never
 * pass `max_connections` together and nobody waits. The per-address count
 * is the owning thread's (a map, asked for once per connection before its
 * stream opens): a shared-memory table would have to bound the number of
 * addresses or share a bucket between two of them.
 *
 * @module
 */

import type { Slot, Slots, Taken } from "../core/http/slots.ts";
import type { Answer, Ask } from "./protocol.ts";

/** Index of the slots held by every thread in a connector's counters. */
export const HELD = 0;

/** Slots of connector `c`; `counters[HELD]` is shared by every thread. */
export function createSharedSlots(
  c: string,
  counters: Int32Array,
  total: number,
  perAddress: number,
  ask: (question: Ask) => Promise<Answer>,
  release: (slot: number) => void,
): Slots {
  const giveBack = () => Atomics.sub(counters, HELD, 1);
  return {
    take(addressOf): Taken | Promise<Taken> {
      for (;;) {
        const held = Atomics.load(counters, HELD);
        if (held >= total) return "full";
        if (Atomics.compareExchange(counters, HELD, held, held + 1) === held) {
          break;
        }
      }
      if (perAddress === 0) return once(giveBack);
      return ask({ op: "address", c, address: addressOf() }).then(
        (answer): Taken => {
          if (typeof answer !== "number") {
            giveBack();
            return "ip_full";
          }
          return once(() => {
            giveBack();
            release(answer);
          });
        },
        (error) => {
          giveBack();
          throw error;
        },
      );
    },
    get held() {
      return Atomics.load(counters, HELD);
    },
  };
}

function once(release: () => void): Slot {
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      release();
    },
  };
}
