/**
 * Maps parsed Mycel HCL files onto the raw config object the TOML loader
 * produces before validation, so the rest of hypha never knows the format.
 * Files of a directory are merged as Mycel merges them: every block counts,
 * and a connector or flow name may be declared once.
 *
 * @module
 */

import { readConnector } from "./connectors.ts";
import { readConstants } from "./constants.ts";
import { type Block, isTable, Mapping, readBlock } from "./context.ts";
import { noteSharedConnectors, readFlow } from "./flows.ts";
import { childBlock, lineOf, type Outline, outline } from "./outline.ts";
import type { HclJson } from "./parse.ts";
import type { Mode } from "./values.ts";

/** One parsed file. */
export interface HclFile {
  readonly file: string;
  readonly text: string;
  readonly json: HclJson;
}

const NAMED = ["connector", "flow"] as const;

/** What to do instead, where "remove it" would break the rest. */
const ADVICE: Readonly<Record<string, string>> = {
  transform:
    "write the fields in a transform block inside each flow that uses it",
};

/** Maps `files`; problems are in the returned mapping's `errors`. */
export function mapHcl(
  files: readonly HclFile[],
  env: Readonly<Record<string, string | undefined>>,
  mode: Mode,
): Mapping {
  const m = new Mapping(env, mode);
  const named: Record<string, Map<string, Block>> = {
    connector: new Map(),
    flow: new Map(),
  };
  let service: Block | undefined;
  const constants: Block[] = [];
  for (const { file, text, json } of files) {
    const shape = outline(text);
    for (const [kind, value] of Object.entries(json)) {
      if (kind === "constants") {
        for (const body of Array.isArray(value) ? value : [value]) {
          constants.push({
            file,
            json: isTable(body) ? body : {},
            outline: childBlock(shape, "constants"),
            path: ["constants"],
            label: "constants",
          });
        }
      } else if (kind === "service") {
        const block = serviceBlock(m, file, shape, value, service);
        service ??= block;
      } else if (
        (NAMED as readonly string[]).includes(kind) && isTable(value)
      ) {
        collect(m, file, shape, kind, value, named[kind]);
      } else {
        const line = lineOf(shape, kind);
        m.errors.push(
          `${file}:${line}: ${kind}: hypha does not read Mycel's "${kind}" ${
            isTable(value) || Array.isArray(value) ? "blocks" : "attributes"
          } (it reads service, connector and flow: events from RabbitMQ or HTTP to browsers); ${
            ADVICE[kind] ?? "remove it"
          }`,
        );
      }
    }
  }
  for (const block of constants) readConstants(m, block);
  if (service !== undefined) {
    readBlock(m, service, {
      name: "copy",
      log_level: "copy",
      shutdown_spread: "copy",
      startup_grace: "copy",
      version: {
        ignore: "Mycel's service version is a label; hypha does not use it",
      },
    });
  }
  for (const block of named.connector.values()) readConnector(m, block);
  for (const block of named.flow.values()) readFlow(m, block);
  noteSharedConnectors(m);
  return m;
}

function serviceBlock(
  m: Mapping,
  file: string,
  shape: Outline,
  value: unknown,
  seen: Block | undefined,
): Block | undefined {
  const bodies = Array.isArray(value) ? value : [value];
  const line = lineOf(shape, "service");
  if (seen !== undefined || bodies.length !== 1 || !isTable(bodies[0])) {
    m.errors.push(
      `${file}:${line}: service: written more than once; write one service block`,
    );
    return undefined;
  }
  return {
    file,
    json: bodies[0],
    outline: childBlock(shape, "service"),
    path: ["service"],
    label: "service",
  };
}

function collect(
  m: Mapping,
  file: string,
  shape: Outline,
  kind: string,
  byName: Record<string, unknown>,
  into: Map<string, Block>,
): void {
  for (const [name, value] of Object.entries(byName)) {
    const bodies = Array.isArray(value) ? value : [value];
    bodies.forEach((body, n) => {
      const block: Block = {
        file,
        json: isTable(body) ? body : {},
        outline: childBlock(shape, kind, name, n),
        path: [kind, name],
        label: `${kind} "${name}"`,
      };
      const first = into.get(name);
      if (first !== undefined) {
        m.errors.push(
          `${file}:${
            lineOf(block.outline)
          }: ${kind} "${name}": already declared at ${first.file}:${
            lineOf(first.outline)
          }; rename one of them`,
        );
      } else if (!isTable(body)) {
        m.errors.push(
          `${file}:${
            lineOf(block.outline)
          }: ${kind} "${name}": expected a block`,
        );
      } else into.set(name, block);
    });
  }
}
