/**
 * `hypha check [--config PATH]`: everything start checks before it binds a
 * port (prepare.ts), then exit. Prints `<file>: valid` and the warnings
 * start would log (exit 0), or the error (exit 2). For CI and deploy
 * scripts: a config that passes here starts, short of ports and brokers.
 *
 * @module
 */

import { ConfigError } from "./config/load.ts";
import { prepareConfig } from "./prepare.ts";

/** What the check needs of the runtime. */
export interface CheckIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readTextFile: (path: string) => Promise<string>;
  readonly print: (text: string) => void;
  readonly printError: (line: string) => void;
}

/** Checks `file`; returns the exit code: 0 valid, 2 invalid. */
export async function checkConfigFile(
  file: string,
  io: CheckIo,
): Promise<0 | 2> {
  try {
    const { warnings } = await prepareConfig(file, io.readTextFile, io.env);
    for (const warning of warnings) io.printError(`hypha: warning: ${warning}`);
    io.print(`${file}: valid`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.printError(`hypha: invalid config: ${error.message}`);
    return 2;
  }
}
