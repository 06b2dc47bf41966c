/**
 * Parses HCL text with HashiCorp's own parser (`@cdktf/hcl2json`, Go compiled
 * to WASM) into its JSON form: blocks become lists of bodies keyed by type
 * and labels, expressions stay as `${...}` text. Its Node bridge reads the
 * WASM next to its own files, which a compiled binary does not have, so the
 * few lines of that bridge are done here, with the WASM taken from a module.
 *
 * @module
 */

import { ConfigError } from "../error.ts";

/** The JSON form of one HCL file. */
export type HclJson = Record<string, unknown>;

type Callback = (error: string | null, result?: string) => void;
interface Bridge {
  parse?: (file: string, text: string, done: Callback) => void;
}
interface GoRuntime {
  importObject: WebAssembly.Imports;
  run(instance: WebAssembly.Instance): Promise<void>;
}

let bridge: Promise<Bridge> | undefined;

/** Starts the WASM parser once, on first use: TOML configs never pay for it. */
function startBridge(): Promise<Bridge> {
  bridge ??= (async () => {
    // Go's runtime for WASM: defines globalThis.Go.
    await import("@cdktf/hcl2json/wasm/wasm_exec.js");
    const { WASM_GZ } = await import("./wasm_bytes.ts");
    const gz = typeof WASM_GZ === "string"
      ? new Uint8Array(
        await (await import("node:fs/promises")).readFile(WASM_GZ),
      )
      : WASM_GZ;
    const wasm = await new Response(
      new Blob([gz as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
        new DecompressionStream("gzip"),
      ),
    ).arrayBuffer();
    const root: Bridge = {};
    // The Go program registers its functions on this global.
    (globalThis as Record<string, unknown>).__parse_terraform_config_wasm__ =
      root;
    const Go = (globalThis as unknown as { Go: new () => GoRuntime }).Go;
    const go = new Go();
    const { instance } = await WebAssembly.instantiate(wasm, go.importObject);
    void go.run(instance);
    return root;
  })();
  return bridge;
}

/**
 * Drops our references to the parser once a config is read, so its Go heap
 * can be collected (V8 keeps the compiled WASM code itself: see README). The
 * next parse starts a new one.
 */
export function releaseHclParser(): void {
  bridge = undefined;
  delete (globalThis as Record<string, unknown>)
    .__parse_terraform_config_wasm__;
}

/**
 * Parses `text`; a syntax error is a ConfigError naming `file`, the line and
 * the column, as HCL reports them.
 */
export async function parseHcl(file: string, text: string): Promise<HclJson> {
  const root = await startBridge();
  const json = await new Promise<string>((resolve, reject) =>
    root.parse!(
      file,
      text,
      (error, result) => error ? reject(error) : resolve(result ?? "{}"),
    )
  ).catch((error) => {
    throw new ConfigError(describeSyntaxError(String(error), file));
  });
  return JSON.parse(json) as HclJson;
}

/** "parse config: [f.hcl:2,6-3,1: Invalid expression; Expected...]" -> "f.hcl:2:6: invalid HCL: ..." */
function describeSyntaxError(message: string, file: string): string {
  const found = /\[?([^\[\]]*?):(\d+),(\d+)(?:-\d+(?:,\d+)?)?: ([^\]]*)\]?$/
    .exec(message);
  if (found === null) return `${file}: invalid HCL: ${message}`;
  const [, , line, column, reason] = found;
  return `${file}:${line}:${column}: invalid HCL: ${reason}`;
}
