/**
 * Reads a Mycel config: one `.hcl` or `.mycel` file, or a directory of them
 * (walked recursively, in name order, as Mycel walks it), parsed and mapped
 * onto hypha's raw config.
 *
 * @module
 */

import { errorMessage } from "../../core/errors.ts";
import { ConfigError } from "../error.ts";
import type { Mapping } from "./context.ts";
import { type HclFile, mapHcl } from "./map.ts";
import { parseHcl, releaseHclParser } from "./parse.ts";
import type { Mode } from "./values.ts";

const HCL_FILE = /\.(hcl|mycel)$/;

/** True when `path` is read as HCL: a .hcl or .mycel file, or a directory. */
export async function isHclPath(path: string): Promise<boolean> {
  if (HCL_FILE.test(path)) return true;
  if (path.endsWith(".toml")) return false;
  try {
    // Imported when needed: a TOML config does not load Node's fs layer.
    const { stat } = await import("node:fs/promises");
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Reads, parses and maps `path`; every problem is one ConfigError. */
export async function readHcl(
  path: string,
  readTextFile: (path: string) => Promise<string>,
  env: Readonly<Record<string, string | undefined>>,
  mode: Mode,
): Promise<Mapping> {
  return mapOrThrow(await readHclFiles(path, readTextFile), env, mode);
}

/** Reads and parses the files of `path`, then lets the parser go. */
export async function readHclFiles(
  path: string,
  readTextFile: (path: string) => Promise<string>,
): Promise<HclFile[]> {
  const files: HclFile[] = [];
  try {
    for (const file of await hclFiles(path)) {
      let text: string;
      try {
        text = await readTextFile(file);
      } catch (error) {
        const reason = errorMessage(error);
        throw new ConfigError(
          `${file}: cannot read the config file: ${reason}`,
        );
      }
      files.push({ file, text, json: await parseHcl(file, text) });
    }
  } finally {
    releaseHclParser();
  }
  return files;
}

/** Maps parsed files; the mapping's errors are one ConfigError. */
export function mapOrThrow(
  files: readonly HclFile[],
  env: Readonly<Record<string, string | undefined>>,
  mode: Mode,
): Mapping {
  const mapping = mapHcl(files, env, mode);
  if (mapping.errors.length > 0) {
    throw new ConfigError(mapping.errors.join("\n"));
  }
  return mapping;
}

/** The files to read: `path` itself, or the HCL files below a directory. */
async function hclFiles(path: string): Promise<string[]> {
  const { readdir, stat } = await import("node:fs/promises");
  let isDirectory = false;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    const reason = errorMessage(error);
    throw new ConfigError(`${path}: cannot read the config file: ${reason}`);
  }
  if (!isDirectory) return [path];
  const found = (await readdir(path, { recursive: true }))
    .map(String)
    .filter((name) => HCL_FILE.test(name))
    .sort()
    .map((name) => `${path.replace(/\/+$/, "")}/${name}`);
  if (found.length === 0) {
    throw new ConfigError(`${path}: no .hcl or .mycel files in this directory`);
  }
  return found;
}

/** "file:line" of the longest prefix of `path` that the mapping knows. */
export function locate(
  mapping: Mapping,
  path: readonly string[],
): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const found = mapping.origins.get(path.slice(0, n).join("."));
    if (found !== undefined) return found;
  }
  return undefined;
}
