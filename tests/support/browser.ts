/**
 * Headless Chromium for tests: Debian's `chromium` package driven by
 * playwright-core (no browser download). `.ci/run` installs it when missing.
 */

import { execFileSync } from "node:child_process";
import { type Browser, chromium } from "playwright-core";

/** The Debian binary, from `which chromium`; undefined when not installed. */
export function chromiumPath(): string | undefined {
  try {
    return execFileSync("which", ["chromium"]).toString().trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Launches headless Chromium that accepts the tests' self-signed certificates. */
export function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (executablePath === undefined) {
    throw new Error("chromium is not installed (apt-get install chromium)");
  }
  return chromium.launch({
    executablePath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--ignore-certificate-errors",
    ],
  });
}
