/**
 * Connection slots: the global and per-address limits. A slot is taken
 * synchronously when a request arrives and released exactly once when it is
 * refused or its stream ends, so requests racing through an async step
 * (token verification) can never exceed either limit.
 *
 * @module
 */

/** A held slot; `release` is idempotent. */
export interface Slot {
  readonly release: () => void;
}

/** A slot, or which limit is reached. */
export type Taken = Slot | "full" | "ip_full";

/** The connection limits of one listener. */
export interface Slots {
  /**
   * A slot, or which limit is reached. `address` is only asked for when
   * the per-address limit is on (Bun finds it with a native call). A
   * promise where the count lives elsewhere (delivery threads ask the
   * owning thread, src/workers).
   */
  take(address: () => string): Taken | Promise<Taken>;
  /** Slots held right now (by this listener's thread). */
  readonly held: number;
}

/** Limits counted in this thread: always answered at once. */
export interface LocalSlots extends Slots {
  take(address: () => string): Taken;
}

/** `perAddress` 0 turns the per-address limit off. */
export function createSlots(total: number, perAddress: number): LocalSlots {
  let held = 0;
  const byAddress = new Map<string, number>();
  /** Gives back a slot, and one of `address` when counted per address. */
  const giveBack = (address: string | undefined) => {
    held--;
    if (address === undefined) return;
    const left = (byAddress.get(address) ?? 1) - 1;
    if (left <= 0) byAddress.delete(address);
    else byAddress.set(address, left);
  };
  return {
    take(addressOf) {
      if (held >= total) return "full";
      let address: string | undefined;
      if (perAddress > 0) {
        address = addressOf();
        const fromAddress = byAddress.get(address) ?? 0;
        if (fromAddress >= perAddress) return "ip_full";
        byAddress.set(address, fromAddress + 1);
      }
      held++;
      let released = false;
      return {
        release: () => {
          if (released) return;
          released = true;
          giveBack(address);
        },
      };
    },
    get held() {
      return held;
    },
  };
}
