/**
 * A flow's `filter` and `transform`, in CEL: the filter decides whether the
 * flow takes a message at all; the transform builds the event's data, one
 * output field per expression. Both read the original message, as do the
 * flow's target and event (a transform that drops a field never breaks them).
 *
 * @module
 */

import { type CelProgram, CelSyntaxError, compileCel } from "./cel.ts";
import type { Message } from "./expression.ts";

/** A flow's filter and transform, compiled. */
export interface FlowShape {
  readonly filter?: CelProgram;
  readonly transform?: readonly TransformField[];
}

/** One output field of a transform. */
export interface TransformField {
  readonly name: string;
  readonly program: CelProgram;
}

/** A filter or transform expression that does not compile, with its key path. */
export class ShapeError extends SyntaxError {
  override name = "ShapeError";
  constructor(readonly path: string, readonly reason: string) {
    super(`${path}: ${reason}`);
  }
}

/** Compiles a flow's filter and transform; throws ShapeError naming the key. */
export function compileShape(
  flow: string,
  filter: string | undefined,
  transform: Readonly<Record<string, string>> | undefined,
): FlowShape {
  const compile = (path: string, text: string) => {
    try {
      return compileCel(text);
    } catch (error) {
      if (!(error instanceof CelSyntaxError)) throw error;
      throw new ShapeError(
        path,
        `${error.message} in the CEL expression ${JSON.stringify(text)}`,
      );
    }
  };
  return {
    filter: filter === undefined
      ? undefined
      : compile(`flow.${flow}.filter`, filter),
    transform: transform === undefined
      ? undefined
      : Object.entries(transform).map(([name, text]) => ({
        name,
        program: compile(`flow.${flow}.transform.${name}`, text),
      })),
  };
}

/** Why a filter or transform gave nothing; `limit` when its cost bound stopped it. */
export interface ShapeFailure {
  readonly reason: string;
  readonly limit: boolean;
}

/** True to take the message, false to drop it, or why the filter failed. */
export function passesFilter(
  flow: string,
  shape: FlowShape,
  message: Message,
): boolean | ShapeFailure {
  if (shape.filter === undefined) return true;
  const outcome = shape.filter.run(message);
  if (!outcome.ok) {
    return {
      reason: `flow ${flow}: filter: ${outcome.reason}`,
      limit: outcome.limit === true,
    };
  }
  if (typeof outcome.value !== "boolean") {
    return {
      reason: `flow ${flow}: filter gave ${
        describe(outcome.value)
      }, expected true or false`,
      limit: false,
    };
  }
  return outcome.value;
}

/**
 * The event's data as JSON text: the transform's fields, or undefined when
 * the flow has no transform (the body is sent as it came).
 */
export function transformData(
  flow: string,
  shape: FlowShape,
  message: Message,
): { readonly data?: string } | ShapeFailure {
  if (shape.transform === undefined) return {};
  const data: Record<string, unknown> = {};
  for (const { name, program } of shape.transform) {
    const outcome = program.run(message);
    if (!outcome.ok) {
      return {
        reason: `flow ${flow}: transform.${name}: ${outcome.reason}`,
        limit: outcome.limit === true,
      };
    }
    data[name] = outcome.value;
  }
  return { data: JSON.stringify(data) };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object"
    ? "a map"
    : `the ${typeof value} ${JSON.stringify(value)}`;
}
