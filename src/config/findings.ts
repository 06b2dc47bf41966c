/**
 * The one convention of the config checks: a check of the whole config (or
 * of a connector, a flow) adds what it finds to `Findings`; a check of one
 * value returns why the value is unusable (`string | undefined`, named
 * `...Problem`), so run-time code can reuse it. Problems refuse the config,
 * warnings are logged at start.
 *
 * @module
 */

/** A problem at a key path: the config is refused. */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

/** Where the checks report. */
export interface Findings {
  /** The config is refused: `path` names the key, `message` what to do. */
  problem(path: string, message: string): void;
  /** The config is accepted; the message is logged at start. */
  warn(message: string): void;
}

/** Findings kept in arrays, in the order found. */
export interface CollectedFindings extends Findings {
  readonly problems: Problem[];
  readonly warnings: string[];
}

/** A fresh `Findings` that keeps what it is told. */
export function collectFindings(): CollectedFindings {
  const problems: Problem[] = [];
  const warnings: string[] = [];
  return {
    problems,
    warnings,
    problem: (path, message) => problems.push({ path, message }),
    warn: (message) => warnings.push(message),
  };
}
