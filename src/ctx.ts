// The one injected context. main.ts builds it from Deno (realCtx); tests build a fake one (tests/helpers).
// Nothing else in src/ reads env, the clock, the TTY, the network or runs processes.

import type { Output } from "./output.ts";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Ctx {
  /** Environment lookup; variables outside the permission scope read as undefined. */
  env(name: string): string | undefined;
  /** Network access: real fetch, the emulator's handler, or a stub registry. */
  fetch(req: Request): Promise<Response>;
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after ms, or rejects with the signal's reason when it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Reads a text file; undefined when it does not exist. */
  readTextFile(path: string): Promise<string | undefined>;
  /**
   * Writes a text file atomically (a temp file beside it, then a rename), creating its folder first.
   * `mode` sets the POSIX file mode (0o600 for files that hold secrets).
   */
  writeTextFile(path: string, text: string, opts?: { mode?: number }): Promise<void>;
  /** All of standard input, as text (for `exec --command -`). */
  readStdin(): Promise<string>;
  /** Runs a program (only `databricks`, for U2M tokens, is within the permission scope). */
  run(cmd: string, args: string[]): Promise<CommandResult>;
  /** Aborts on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
  /** Jitter source for retries; tests pin it. */
  random(): number;
  stdoutIsTty: boolean;
  stderrIsTty: boolean;
  out: Output;
}

/**
 * The real ctx.sleep. AbortSignal.timeout rather than setTimeout: Deno's first setTimeout costs 5-10 ms of
 * lazy start-up, which would land in the first sleep of `dbxr exec`'s poll (and shift every later poll);
 * the listener keeps the process alive while it sleeps, and is removed when the sleep is cut short.
 */
export function sleepWithSignal(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    // Timers overflow past 2^31-1 ms (to 1 ms).
    const timer = AbortSignal.timeout(Math.min(2_147_483_647, Math.max(0, ms)));
    const onAbort = () => {
      timer.removeEventListener("abort", onTimer);
      reject(signal!.reason);
    };
    const onTimer = () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    };
    timer.addEventListener("abort", onTimer, { once: true });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
