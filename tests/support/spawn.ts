/**
 * Spawns a child process with the running runtime's own API. Deno's
 * node:child_process reports a child that exits 0 after handling SIGTERM as
 * killed by the signal (Deno 2.9), which would hide the exit code under test.
 */

/** A spawned process. */
export interface Child {
  readonly pid: number;
  /** Called with each chunk of stdout and stderr, as text. */
  onOutput(listener: (text: string) => void): void;
  kill(signal: "SIGTERM" | "SIGINT" | "SIGKILL"): void;
  /** Exit code, or null when a signal killed it. */
  readonly exited: Promise<number | null>;
}

/** Spawns `command args` in `cwd` with `env` added to the environment. */
export function spawnChild(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Child {
  const listeners: ((text: string) => void)[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      for (const l of listeners) l(text);
    }
  };
  if ("Bun" in globalThis) {
    const child = Bun.spawn([command, ...args], {
      cwd,
      env: { ...Bun.env, ...env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const done = Promise.all([pump(child.stdout), pump(child.stderr)]);
    return {
      pid: child.pid,
      onOutput: (l) => listeners.push(l),
      kill: (signal) => child.kill(signal),
      exited: child.exited.then(async (code) => {
        await done;
        return child.signalCode ? null : code;
      }),
    };
  }
  const child = new Deno.Command(command, {
    args,
    cwd,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const done = Promise.all([pump(child.stdout), pump(child.stderr)]);
  return {
    pid: child.pid,
    onOutput: (l) => listeners.push(l),
    kill: (signal) => {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
    },
    exited: child.status.then(async (status) => {
      await done;
      return status.signal ? null : status.code;
    }),
  };
}
