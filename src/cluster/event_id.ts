/**
 * Event ids of a cluster: `<epoch>-<offset>`, e.g. `k3x9q2ab-1042`. The
 * offset is the event's place in the stream, the same on every instance;
 * the epoch changes when the stream is deleted and recreated (offsets start
 * at 0 again), so an id of the old stream can never point into the new one.
 *
 * @module
 */

/** An id taken apart. */
export interface ParsedId {
  readonly epoch: string;
  readonly offset: number;
}

const EPOCH = /^[0-9a-z]{1,16}$/;
const ID = /^([0-9a-z]{1,16})-(\d{1,15})$/;

/** The id of the event at `offset` of the stream with `epoch`. */
export function formatId(epoch: string, offset: number): string {
  return `${epoch}-${offset}`;
}

/** The parts of `id`, or undefined when it is not an id of this format. */
export function parseId(id: string): ParsedId | undefined {
  const match = ID.exec(id);
  if (match === null) return undefined;
  return { epoch: match[1], offset: Number(match[2]) };
}

/** True when `epoch` can be used in ids. */
export function isEpoch(epoch: string): boolean {
  return EPOCH.test(epoch);
}

/** A fresh random epoch: 8 base-36 characters. */
export function newEpoch(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => (b % 36).toString(36)).join("");
}
