// One spark_python_task as a real python3 process (python/job_task_runner.py, which runs the script the
// way a Databricks driver does). This module owns the process, its private channel and the `logs` ring
// buffer; job_runs.ts decides what the outcome means for the run.
//
// Pipes: stdin is the channel to the runner, stderr the channel back (the runner points its own fd 2 at
// fd 1 first), stdout carries whatever the script and its subprocesses print, in write order. Only the
// last `logsLimit` bytes of stdout are kept, so a chatty script costs no more memory than that.

import RUNNER_SOURCE from "./python/job_task_runner_py.ts";
import { childEnv, envOr } from "./child_env.ts";

export interface RunnerInit {
  /** The script's path as the code's filename and sys.argv[0], e.g. /Workspace/Users/a/main.py. */
  pythonFile: string;
  parameters: string[];
  /** Virtual prefix → local directory, e.g. {"/Workspace": "/tmp/x/Workspace"}. */
  mounts: Record<string, string>;
  /** The local directory the script starts in (also the process's CWD). */
  cwd: string;
  apiUrl: string;
  apiToken: string;
  workspaceHost: string;
  sparkConf: Record<string, string>;
}

export interface TaskProcessOptions {
  init: RunnerInit;
  /** Bytes of output kept (the last ones); Databricks keeps the last 5 MB. */
  logsLimit: number;
  /** Extra environment (e.g. DATABRICKS_RUNTIME_VERSION); the emulator's DATABRICKS_* and DBXR_* are not passed. */
  env?: Record<string, string>;
  /** Interpreter; default env DBXR_EMULATOR_PYTHON, else "python3". */
  python?: string;
  /** A venv's python to run the task with (serverless environments); started through `python` (EXEC_VENV). */
  venvPython?: string;
}

/**
 * `python3 -c EXEC_VENV <venv>/bin/python ARGS…` becomes `<venv>/bin/python ARGS…` (same pid, same pipes)
 * with the venv activated (VIRTUAL_ENV, its bin first on PATH). The emulator may start only python3
 * (scripts/emulator_permission_flags.txt: --allow-run=python3, resolved on the child's PATH), and a venv's
 * python is another path, so python3 itself hands over to it.
 */
export const EXEC_VENV = "import os, sys; bin = os.path.dirname(sys.argv[1]); " +
  "os.environ['VIRTUAL_ENV'] = os.path.dirname(bin); " +
  "os.environ['PATH'] = bin + os.pathsep + os.environ.get('PATH', ''); os.execv(sys.argv[1], sys.argv[1:])";

export type Outcome = "success" | "exception" | "exit" | "interrupted" | "crashed";

export interface TaskResult {
  /** `crashed`: the process ended without reporting (os._exit, a signal, or it never started). */
  outcome: Outcome;
  /** `"<ExcType>: <message>\n[Trace ID: …]"` for exception and exit. */
  error?: string;
  /** IPython's ANSI traceback, first frame the wrapper. */
  errorTrace?: string;
  exitCode?: number;
  /** Why a crashed process ended (exit code, signal, interpreter error), for the emulator's own logs. */
  crash?: string;
  /** stdout+stderr, the last `logsLimit` bytes, with exactly one trailing newline (or "" for none). */
  logs: string;
  logsTruncated: boolean;
}

export interface TaskProcess {
  /** The runner's own pid (python3 may be started through a wrapper), once it has said hello. */
  readonly pid: number | null;
  /** Resolves when the process is gone and its pipes are drained; never rejects. */
  readonly result: Promise<TaskResult>;
  /** Cancel: SIGINT into the script (KeyboardInterrupt), as Databricks interrupts the kernel. */
  interrupt(): void;
  /** SIGKILL to the runner's process group (the script's children too). */
  kill(): void;
}

type RunnerMessage =
  | { type: "hello"; pid: number }
  | {
    type: "done";
    outcome: Exclude<Outcome, "crashed">;
    error?: string;
    error_trace?: string;
    exit_code?: number;
  };

/** After the process exits, how long a lingering grandchild may keep stdout open before we stop reading. */
const DRAIN_GRACE_MS = 500;
/** After asking the runner to kill its group, when to kill the child we started ourselves. */
const KILL_FALLBACK_MS = 1000;
const STDERR_TAIL = 4096;

export function spawnTaskProcess(options: TaskProcessOptions): TaskProcess {
  return new RunnerProcess(options);
}

class RunnerProcess implements TaskProcess {
  pid: number | null = null;
  readonly result: Promise<TaskResult>;
  #child: Deno.ChildProcess | null = null;
  #writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  #writes: Promise<void> = Promise.resolve();
  #done: Extract<RunnerMessage, { type: "done" }> | null = null;
  #stderrTail = "";
  #logs: RingBuffer;
  #exited = false;
  #killTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: TaskProcessOptions) {
    this.#logs = new RingBuffer(options.logsLimit);
    this.result = this.#run();
  }

  interrupt(): void {
    this.#send({ type: "interrupt" });
  }

  kill(): void {
    if (this.#exited) return;
    this.#send({ type: "kill" });
    this.#killTimer ??= setTimeout(() => {
      try {
        this.#child?.kill("SIGKILL");
      } catch { /* already gone */ }
    }, KILL_FALLBACK_MS);
  }

  async #run(): Promise<TaskResult> {
    const python = this.options.python ?? envOr("DBXR_EMULATOR_PYTHON", "python3");
    try {
      const args = ["-u", "-c", RUNNER_SOURCE];
      const venv = this.options.venvPython;
      this.#child = new Deno.Command(python, {
        args: venv ? ["-c", EXEC_VENV, venv, ...args] : args,
        cwd: this.options.init.cwd,
        env: childEnv(this.options.env),
        clearEnv: true,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      this.#exited = true;
      return {
        outcome: "crashed",
        crash: `cannot start ${python} (${e instanceof Error ? e.message : String(e)}): install Python 3, ` +
          "or set DBXR_EMULATOR_PYTHON to a python3",
        logs: "",
        logsTruncated: false,
      };
    }
    const child = this.#child;
    this.#writer = child.stdin.getWriter();
    this.#send({ type: "init", ...this.options.init });
    const stdout = this.#readLogs(child.stdout.getReader());
    const [status] = await Promise.all([child.status, this.#readChannel(child.stderr)]);
    this.#exited = true;
    clearTimeout(this.#killTimer);
    await stdout.finished(DRAIN_GRACE_MS);
    this.#closeChannel();
    await this.#writes;
    return this.#result(status);
  }

  #result(status: Deno.CommandStatus): TaskResult {
    const { text, truncated } = this.#logs.text();
    const logs = { logs: text, logsTruncated: truncated };
    const done = this.#done;
    if (!done) {
      const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
      const tail = this.#stderrTail.trim().split("\n").slice(-5).join("\n");
      return { outcome: "crashed", crash: `python3 ${how}${tail ? `: ${tail}` : ""}`, ...logs };
    }
    return {
      outcome: done.outcome,
      ...(done.error !== undefined ? { error: done.error } : {}),
      ...(done.error_trace !== undefined ? { errorTrace: done.error_trace } : {}),
      ...(done.exit_code !== undefined ? { exitCode: done.exit_code } : {}),
      ...logs,
    };
  }

  #readLogs(reader: ReadableStreamDefaultReader<Uint8Array>) {
    const loop = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          this.#logs.push(value);
        }
      } catch { /* cancelled below */ }
    })();
    return {
      // A grandchild that left the process group may hold stdout open forever: stop reading after a grace.
      finished: async (graceMs: number) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<void>((r) => timer = setTimeout(r, graceMs));
        await Promise.race([loop, timeout]);
        clearTimeout(timer);
        await reader.cancel().catch(() => {});
        await loop;
      },
    };
  }

  async #readChannel(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let pending = "";
    const line = (text: string) => {
      const msg = parse(text);
      if (!msg) {
        // Not the protocol: the interpreter's own complaint (it failed before the runner took the pipe).
        if (text.trim()) this.#stderrTail = (this.#stderrTail + text + "\n").slice(-STDERR_TAIL);
      } else if (msg.type === "hello") this.pid = msg.pid;
      else if (msg.type === "done") this.#done = msg;
    };
    for await (const chunk of stream) {
      pending += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        line(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    }
    line(pending + decoder.decode());
  }

  #send(msg: Record<string, unknown>): void {
    const writer = this.#writer;
    if (!writer) return;
    const bytes = new TextEncoder().encode(JSON.stringify(msg) + "\n");
    this.#writes = this.#writes.then(() => writer.write(bytes)).catch(() => {/* the process is gone */});
  }

  #closeChannel(): void {
    const writer = this.#writer;
    if (!writer) return;
    this.#writer = null;
    this.#writes = this.#writes.then(() => writer.close()).catch(() => {/* the pipe is already broken */});
  }
}

function parse(line: string): RunnerMessage | null {
  if (!line.startsWith("{")) return null;
  try {
    const msg = JSON.parse(line);
    return msg && (msg.type === "hello" || msg.type === "done") ? msg : null;
  } catch {
    return null;
  }
}

/** The last `limit` bytes of a stream, and whether anything before them was dropped. */
export class RingBuffer {
  #chunks: Uint8Array[] = [];
  #size = 0;
  #dropped = false;

  constructor(private readonly limit: number) {}

  push(chunk: Uint8Array): void {
    if (this.limit <= 0) {
      this.#dropped ||= chunk.length > 0;
      return;
    }
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#size > this.limit) {
      const first = this.#chunks[0];
      const excess = this.#size - this.limit;
      this.#dropped = true;
      if (first.length <= excess) {
        this.#chunks.shift();
        this.#size -= first.length;
      } else {
        this.#chunks[0] = first.subarray(excess);
        this.#size -= excess;
      }
    }
  }

  /** UTF-8 text with exactly one trailing newline ("" when nothing was written). */
  text(): { text: string; truncated: boolean } {
    const all = new Uint8Array(this.#size);
    let at = 0;
    for (const c of this.#chunks) {
      all.set(c, at);
      at += c.length;
    }
    let start = 0;
    // A cut can land inside a UTF-8 sequence: drop its continuation bytes rather than show U+FFFD.
    if (this.#dropped) { while (start < all.length && start < 3 && (all[start] & 0xc0) === 0x80) start++; }
    const raw = new TextDecoder().decode(all.subarray(start));
    let end = raw.length;
    while (end > 0 && (raw[end - 1] === "\n" || raw[end - 1] === "\r")) end--;
    return { text: end === 0 ? "" : raw.slice(0, end) + "\n", truncated: this.#dropped };
  }
}
