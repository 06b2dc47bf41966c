/**
 * The program around the app: arguments, config, logs, signals, exit codes.
 * The runtime entrypoints (deno.ts, bun.ts) only supply the runtime's I/O.
 *
 * @module
 */

import { type App, type RunningServer, startApp } from "./app.ts";
import { checkConfigFile } from "./check_command.ts";
import { translateConfig } from "./config/hcl/translate.ts";
import { ConfigError } from "./config/load.ts";
import { errorMessage } from "./core/errors.ts";
import { createLogger, type Level } from "./core/log.ts";
import type { Listener } from "./core/http/http.ts";
import { logReadiness } from "./ops/ready_log.ts";
import { prepareConfig, type Prepared } from "./prepare.ts";
import { deliveryThreads, type ThreadSupport } from "./workers/count.ts";

/** Exit codes: 0 ok, 1 failure at run time, 2 bad usage or config. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

const DEFAULT_CONFIG = "config/hypha.toml";
/** A stop that takes longer than this exits anyway. */
const HARD_EXIT_MS = 5000;

/** `--help` text. Lists no secrets: it is printed before any config is read. */
export const HELP =
  `hypha: a Server-Sent Events hub fed by RabbitMQ and HTTP publish routes

Usage:
  npm start [-- --config PATH]            run on Deno
  npm run start:bun [-- --config PATH]    run on Bun
  npx deno run -A src/deno.ts [--config PATH]
  npx bun src/bun.ts [--config PATH]
  ./dist/hypha [--config PATH]            the compiled binary
(npm install puts deno and bun in node_modules/.bin, not on PATH)

Commands:
  (none)                 run the hub until SIGINT or SIGTERM
  check [--config PATH]  load and validate the config and every file it names
                         (auth keys, TLS certificates), then exit: prints
                         "PATH: valid" (exit 0) or the errors (exit 2);
                         npm run check-config -- PATH
  translate PATH         print a Mycel HCL config as hypha's TOML, with a
                         comment wherever meaning or a default differs;
                         npm run -s translate -- PATH

Options:
  -c, --config PATH   config file: TOML, or Mycel's HCL (a .hcl or .mycel
                      file, or a directory of them, merged);
                      default: $HYPHA_CONFIG or ${DEFAULT_CONFIG}
  -h, --help          show this help and exit

Environment:
  HYPHA_CONFIG        config file when --config is not given
  any \${VAR}          referenced from the config file, e.g. \${RABBITMQ_URL:-amqp://localhost}

Signals: SIGINT and SIGTERM stop accepting connections, tell subscribers when to
reconnect, close every stream and exit 0.
`;

/** What a runtime entrypoint supplies. */
export interface Platform {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readTextFile: (path: string) => Promise<string>;
  readonly serve: (listener: Listener) => Promise<RunningServer>;
  readonly onSignal: (handler: (signal: string) => void) => void;
  /** Hands over rejections nobody handled, instead of the runtime's crash. */
  readonly onUnhandledRejection: (handler: (reason: unknown) => void) => void;
  /** Hands over errors nobody caught, instead of the runtime's crash. */
  readonly onUncaughtError: (handler: (error: unknown) => void) => void;
  readonly print: (text: string) => void;
  readonly printError: (line: string) => void;
  readonly exit: (code: number) => never;
  /** Delivery threads, where the runtime offers them (src/workers). */
  readonly threads?: ThreadSupport;
}

/** Parses arguments; returns the config path, "help", or an error message. */
export function parseArgs(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
):
  | { config: string }
  | { check: string }
  | { translate: string }
  | "help"
  | { error: string } {
  if (args[0] === "translate") {
    if (args[1] === "-h" || args[1] === "--help") return "help";
    if (args.length !== 2) return { error: "translate needs one PATH" };
    return { translate: args[1] };
  }
  if (args[0] === "check") {
    const rest = args.slice(1);
    // `check PATH` too, so `npm run check-config -- PATH` reads naturally.
    if (rest.length === 1 && !rest[0].startsWith("-")) {
      return { check: rest[0] };
    }
    const parsed = parseArgs(rest, env);
    return typeof parsed === "object" && "config" in parsed
      ? { check: parsed.config }
      : parsed;
  }
  let config = env.HYPHA_CONFIG || DEFAULT_CONFIG;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "-h" || arg === "--help") return "help";
    if (arg === "-c" || arg === "--config") {
      const value = args[++i];
      if (value === undefined) return { error: `${arg} needs a path` };
      config = value;
    } else if (arg.startsWith("--config=")) {
      config = arg.slice("--config=".length);
    } else {
      return { error: `unknown argument ${JSON.stringify(arg)} (see --help)` };
    }
  }
  return { config };
}

/** Runs hypha until a signal; never returns. */
export async function main(platform: Platform): Promise<never> {
  const parsed = parseArgs(platform.args, platform.env);
  if (parsed === "help") {
    platform.print(HELP);
    return platform.exit(EXIT.ok);
  }
  if ("error" in parsed) {
    platform.printError(`hypha: ${parsed.error}`);
    return platform.exit(EXIT.usage);
  }
  if ("translate" in parsed) return await translate(parsed.translate, platform);
  if ("check" in parsed) {
    return platform.exit(await checkConfigFile(parsed.check, platform));
  }
  let prepared: Prepared;
  try {
    prepared = await prepareConfig(
      parsed.config,
      platform.readTextFile,
      platform.env,
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    platform.printError(`hypha: invalid config: ${error.message}`);
    return platform.exit(EXIT.usage);
  }
  const { config, warnings, auth, brokerTls, tls } = prepared;
  const log = createLogger(
    platform.printError,
    config.service.log_level as Level,
    config.service.log_format,
  );
  // A rejection or error nobody handled is a bug, but ending the process for
  // it drops every subscriber at once (seen: one from amqp-client while the
  // broker shut down killed a Deno instance): log it, serve on. The message
  // only: the runtime's own report prints the whole object, and Bun 1.4
  // showed an AMQPError's connection with the broker password in it.
  platform.onUnhandledRejection((reason) => {
    log.error("unhandled rejection", { reason: errorMessage(reason) });
  });
  platform.onUncaughtError((error) => {
    log.error("uncaught error", { reason: errorMessage(error) });
  });
  // Signals are wired before anything starts, so none is lost during startup.
  let app: App | undefined;
  let stopping = false;
  let stopTelling = () => {};
  platform.onSignal((signal) => {
    if (stopping) return;
    stopping = true;
    stopTelling();
    log.info("stopping", { signal });
    // Streams to clients that never read could keep the server open; the
    // spread only tells clients when to come back, the server need not wait.
    const hardExit = setTimeout(() => {
      log.warn("shutdown took too long; exiting");
      platform.exit(EXIT.ok);
    }, HARD_EXIT_MS);
    (app?.stop() ?? Promise.resolve()).then(() => {
      clearTimeout(hardExit);
      log.info("stopped");
      platform.exit(EXIT.ok);
    });
  });
  log.info("starting", { service: config.service.name, config: parsed.config });
  for (const warning of warnings) log.warn(warning);

  try {
    app = await startApp(config, {
      serve: platform.serve,
      log,
      authorizers: auth.authorizers,
      callbacks: auth.callbacks,
      mercure: auth.mercure,
      brokerTls,
      tls,
      threads: deliveryThreads(
        config.service.workers,
        platform.threads,
        parsed.config,
        platform.env,
        log,
      ),
    });
  } catch (error) {
    log.error("cannot start", {
      reason: errorMessage(error),
    });
    return platform.exit(EXIT.failure);
  }
  if (stopping) await app.stop();
  else stopTelling = logReadiness(app.readiness, log);
  // Runs until a signal handler exits the process.
  return await new Promise<never>(() => {});
}

/** `hypha translate PATH`: prints the TOML, or the config error (exit 2). */
async function translate(path: string, platform: Platform): Promise<never> {
  try {
    const toml = await translateConfig(
      path,
      platform.readTextFile,
      platform.env,
    );
    platform.print(toml.trimEnd());
    return platform.exit(EXIT.ok);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    platform.printError(`hypha: invalid config: ${error.message}`);
    return platform.exit(EXIT.usage);
  }
}
