/**
 * Value types of the config schema, written once: durations, sizes,
 * integers (also from `${VAR}` digit strings), booleans, names.
 *
 * @module
 */

import { z } from "zod";
import { parseDuration, parseSize } from "./units.ts";

/** A duration string (or the number 0), parsed to milliseconds. */
export const duration = z.union([z.string(), z.number()]).transform(
  (value, ctx) => {
    // A bare number has no unit; only 0 means the same in every unit.
    const ms = value === 0
      ? 0
      : typeof value === "string"
      ? parseDuration(value)
      : undefined;
    if (ms === undefined) {
      ctx.addIssue({
        code: "custom",
        message: 'expected a duration like "30s", "500ms", "2m" or "1h"',
      });
      return z.NEVER;
    }
    return ms;
  },
);

/** A size in bytes: an integer or a string like "256KiB" or "1MiB". */
export const size = z.union([z.number(), z.string()]).transform(
  (value, ctx) => {
    const bytes = parseSize(value);
    if (bytes === undefined) {
      ctx.addIssue({
        code: "custom",
        message: 'expected a size in bytes or like "256KiB", "1MiB"',
      });
      return z.NEVER;
    }
    return bytes;
  },
);

/** An integer; a digit string is accepted, since `${PORT}` yields one. */
export const integer = (min: number, max: number) =>
  z.preprocess(
    (v) => typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v,
    z.number().int().min(min).max(max),
  );

export const port = integer(0, 65535);
export const count = integer(0, Number.MAX_SAFE_INTEGER);
export const boolean = z.preprocess(
  (v) => v === "true" ? true : v === "false" ? false : v,
  z.boolean(),
);
export const name = z.string().min(1);
