/**
 * A CEL result as the JSON value an event carries. Each value converted
 * (and each string's length) counts towards the evaluation's result bound
 * (cel_budget.ts), so a small loop over a large list cannot fan out into
 * a huge event.
 *
 * @module
 */

import {
  type CelValue,
  isCelList,
  isCelMap,
  isCelType,
  isCelUint,
} from "@bufbuild/cel";
import { toJson as toJsonOfMessage } from "@bufbuild/protobuf";
import { isReflectMessage } from "@bufbuild/protobuf/reflect";
import { chargeValue } from "./cel_budget.ts";

/**
 * A CEL value as JSON: int and uint as numbers, maps as objects (keys as
 * strings), bytes as base64, timestamps and durations as their JSON strings.
 */
export function toJson(value: CelValue): unknown {
  chargeValue(typeof value === "string" ? value.length : 0);
  if (value === null || typeof value !== "object") {
    return typeof value === "bigint" ? Number(value) : value;
  }
  if (isCelUint(value)) return Number(value.value);
  if (value instanceof Uint8Array) {
    chargeValue(value.length);
    return toBase64(value);
  }
  if (isCelList(value)) {
    const list: unknown[] = [];
    for (const item of value) list.push(toJson(item));
    return list;
  }
  if (isCelMap(value)) {
    const object: Record<string, unknown> = {};
    for (const [key, item] of value) {
      if (typeof key === "string") chargeValue(key.length);
      object[isCelUint(key) ? String(key.value) : String(key)] = toJson(item);
    }
    return object;
  }
  if (isCelType(value)) return value.name;
  // Timestamps, durations and other protobuf messages: their JSON mapping.
  if (isReflectMessage(value)) {
    return toJsonOfMessage(value.desc, value.message);
  }
  return String(value);
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
