/**
 * HashiCorp's HCL parser compiled to WASM (gzipped), as a module so that it
 * travels inside compiled binaries. Deno (with the `raw-imports` unstable
 * flag set in deno.json) gives the bytes; Bun 1.4 ignores the `bytes` type
 * and gives a path, which `bun build --compile` embeds and keeps readable.
 *
 * @module
 */

import gzipped from "@cdktf/hcl2json/main.wasm.gz" with { type: "bytes" };

/** The gzipped WASM: bytes (Deno) or a readable file path (Bun). */
export const WASM_GZ: Uint8Array | string = gzipped as Uint8Array | string;
