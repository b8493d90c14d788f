// One API 1.2 execution context of the fake workspace: a real python3 process (the host in
// python/context_host.py) that keeps its globals and runs commands one at a time, in order.
// This module owns the process and the command queue; the HTTP routes sit on top of it.

import HOST_SOURCE from "./python/context_host_py.ts";
import { encodeMessage, type HostMessage, type ParentMessage, readMessages } from "./context_channel.ts";
import {
  commandCancelled,
  type CommandResults,
  type CommandStatus,
  contextShutDown,
  kernelUnavailable,
  replStartFailed,
} from "./context_results.ts";
import { childEnv, envOr } from "./child_env.ts";

export type { CommandResults, CommandStatus } from "./context_results.ts";

export type Language = "python" | "sql";
export type ContextState = "Pending" | "Running" | "Error";
/**
 * How a command cancelled while running settles; Databricks does both (docs/databricks-behaviour.md §2.3).
 */
export type CancelOutcome = "Cancelled" | "FinishedWithCancelledException";
export type StartOutcome = { ok: true; python: string; ipython: string } | { ok: false; message: string };

export const DEFAULT_OUTPUT_LIMIT = 50_000;

export interface SpawnContextOptions {
  /** Interpreter to run; default: env DBXR_EMULATOR_PYTHON, else "python3". */
  python?: string;
  /** The context's start directory (a stand-in for /databricks/driver); created when missing. */
  cwd: string;
  /** What `getContext().apiUrl()` returns, e.g. "http://127.0.0.1:8123". */
  apiUrl: string;
  /** What `getContext().apiToken()` returns; sent over the private channel, never via the environment. */
  apiToken: string;
  /** `spark.conf.get("spark.databricks.workspaceUrl")`: the bare host, e.g. "127.0.0.1:8123". */
  workspaceHost: string;
  /** Characters of text output kept per command (default 50,000). */
  outputLimit?: number;
  /** More `spark.conf` entries (e.g. cluster tags). */
  sparkConf?: Record<string, string>;
  /** Extra environment for the process (the emulator's DATABRICKS_* and DBXR_* variables are not passed). */
  env?: Record<string, string>;
  /** Clock for submittedAt/finishedAt/lastUsedAt (the emulator's time is injectable). */
  now?: () => number;
}

export interface CommandHandle {
  readonly id: string;
  readonly language: Language;
  readonly status: CommandStatus;
  /** The CommandStatusResponse `results`: null while Queued/Running/Cancelling and after a plain cancel. */
  readonly results: CommandResults | null;
  /** What an interrupted command had printed (head and tail past the limit), else null. */
  readonly capturedOutput: string | null;
  readonly submittedAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  /** Resolves when the command reaches Finished, Cancelled or Error; never rejects. */
  readonly done: Promise<void>;
}

export interface ContextProcess {
  /** The host's pid (also its process group); null when the interpreter could not be started. */
  readonly pid: number | null;
  /** Pending until the host is ready; Error once it failed to start, died or was killed. */
  readonly state: ContextState;
  /** Resolves once the host is ready or has failed to start; never rejects. */
  readonly ready: Promise<StartOutcome>;
  readonly alive: boolean;
  /** Last submit or completion time, for least-recently-used eviction. */
  readonly lastUsedAt: number;
  /** Why the host never became ready (no python3, no IPython, a crash at start); null otherwise. */
  readonly startError: string | null;
  /** Resolves when the process has exited and its pipes are closed; never rejects. */
  readonly closed: Promise<void>;
  /** Queues a command behind the running one. */
  execute(command: string, language: Language): CommandHandle;
  get(commandId: string): CommandHandle | undefined;
  /** Queued: Cancelled now. Running: SIGINT into it, Cancelling until the host answers. False if unknown. */
  cancel(commandId: string, outcome: CancelOutcome): boolean;
  /** Context lost: running and queued commands end Finished with CommandCancelledException; the process
   * group is killed (EOF on the channel makes the host do it; SIGKILL after a grace period) and reaped. */
  kill(): Promise<void>;
}

export function spawnContext(options: SpawnContextOptions): ContextProcess {
  return new Context(options);
}

class Command implements CommandHandle {
  status: CommandStatus = "Queued";
  results: CommandResults | null = null;
  capturedOutput: string | null = null;
  startedAt: number | null = null;
  finishedAt: number | null = null;
  cancelOutcome: CancelOutcome | null = null;
  readonly done: Promise<void>;
  resolve!: () => void;

  constructor(
    readonly id: string,
    readonly language: Language,
    readonly command: string,
    readonly submittedAt: number,
  ) {
    this.done = new Promise((r) => this.resolve = r);
  }

  get terminal(): boolean {
    return this.status === "Finished" || this.status === "Cancelled" || this.status === "Error";
  }
}

const STDERR_TAIL = 8192;
const KILL_GRACE_MS = 2000;
/** Finished commands remembered for `get` (their results can be 50,000 characters each). */
const REMEMBERED_COMMANDS = 1000;

class Context implements ContextProcess {
  state: ContextState = "Pending";
  lastUsedAt: number;
  startError: string | null = null;
  readonly ready: Promise<StartOutcome>;
  readonly closed: Promise<void>;
  #resolveReady!: (o: StartOutcome) => void;
  #readySettled = false;
  #everReady = false;
  #now: () => number;
  #python: string;
  #child: Deno.ChildProcess | null = null;
  /** The Python host's own pid and process group; the child may be a wrapper around it (pyenv). */
  #hostPid: number | null = null;
  #writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  #writes: Promise<void> = Promise.resolve();
  #queue: Command[] = [];
  #current: Command | null = null;
  #commands = new Map<string, Command>();
  #killed = false;
  #exited = false;
  #fatal: string | null = null;
  #stderrTail = "";

  constructor(options: SpawnContextOptions) {
    this.#now = options.now ?? Date.now;
    this.lastUsedAt = this.#now();
    this.#python = options.python ?? envOr("DBXR_EMULATOR_PYTHON", "python3");
    this.ready = new Promise((r) => this.#resolveReady = r);
    this.closed = this.#start(options);
  }

  get pid(): number | null {
    return this.#hostPid ?? this.#child?.pid ?? null;
  }

  get alive(): boolean {
    return !this.#exited && !this.#killed && this.state !== "Error";
  }

  execute(command: string, language: Language): CommandHandle {
    const now = this.#now();
    const cmd = new Command(crypto.randomUUID(), language, command, now);
    this.#remember(cmd);
    this.lastUsedAt = now;
    if (!this.alive) {
      this.#settle(cmd, "Error", this.#lostResults());
      return cmd;
    }
    this.#queue.push(cmd);
    this.#pump();
    return cmd;
  }

  get(commandId: string): CommandHandle | undefined {
    return this.#commands.get(commandId);
  }

  #remember(cmd: Command): void {
    this.#commands.set(cmd.id, cmd);
    for (const [id, old] of this.#commands) { // oldest first
      if (this.#commands.size <= REMEMBERED_COMMANDS) break;
      if (old.terminal) this.#commands.delete(id);
    }
  }

  cancel(commandId: string, outcome: CancelOutcome): boolean {
    const cmd = this.#commands.get(commandId);
    if (!cmd) return false;
    if (cmd.status === "Queued") {
      this.#queue = this.#queue.filter((c) => c !== cmd);
      this.#settle(cmd, "Cancelled", null);
    } else if (cmd.status === "Running") {
      cmd.status = "Cancelling";
      cmd.cancelOutcome = outcome;
      // Over the channel, not Deno.kill: the emulator may not signal processes (its --allow-run is
      // scoped to python3) and python3 may be a wrapper's child. The host signals itself.
      this.#send({ type: "interrupt", id: cmd.id });
    }
    return true;
  }

  async kill(): Promise<void> {
    if (!this.#killed) {
      this.#killed = true;
      this.state = "Error";
      for (const cmd of [...(this.#current ? [this.#current] : []), ...this.#queue]) {
        this.#settle(cmd, "Finished", contextShutDown());
      }
      this.#current = null;
      this.#queue = [];
      this.#failReady("the context was killed before it was ready");
      this.#killGroup();
      // EOF on its channel makes the host kill its own process group (user code's children too).
      this.#closeChannel();
      // A host that cannot react (no hello yet, or the GIL held by C code) gets SIGKILL.
      const timer = setTimeout(() => this.#signalChild("SIGKILL"), KILL_GRACE_MS);
      await this.closed;
      clearTimeout(timer);
    }
    await this.closed;
  }

  // ----- process -----

  async #start(options: SpawnContextOptions): Promise<void> {
    try {
      Deno.mkdirSync(options.cwd, { recursive: true });
      this.#child = new Deno.Command(this.#python, {
        args: ["-u", "-c", HOST_SOURCE],
        cwd: options.cwd,
        env: childEnv(options.env),
        clearEnv: true,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      this.#exited = true;
      this.state = "Error";
      this.#fatal = `cannot start ${this.#python} (${e instanceof Error ? e.message : String(e)}): ` +
        "install Python 3 with IPython, or set DBXR_EMULATOR_PYTHON to such a python3";
      this.#failReady(this.#fatal);
      return;
    }
    const child = this.#child;
    this.#writer = child.stdin.getWriter();
    this.#send({
      type: "init",
      apiUrl: options.apiUrl,
      apiToken: options.apiToken,
      workspaceHost: options.workspaceHost,
      outputLimit: options.outputLimit ?? DEFAULT_OUTPUT_LIMIT,
      sparkConf: options.sparkConf ?? {},
      cwd: options.cwd,
    });
    const [status] = await Promise.all([child.status, this.#readLoop(child), this.#stderrLoop(child)]);
    await this.#onExit(status);
  }

  async #readLoop(child: Deno.ChildProcess): Promise<void> {
    for await (const msg of readMessages(child.stdout)) this.#onMessage(msg);
  }

  async #stderrLoop(child: Deno.ChildProcess): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      this.#stderrTail = (this.#stderrTail + decoder.decode(chunk, { stream: true })).slice(-STDERR_TAIL);
    }
  }

  async #onExit(status: Deno.CommandStatus): Promise<void> {
    this.#exited = true;
    this.state = "Error";
    if (!this.#killed) {
      this.#killGroup(); // the user's background processes go with their context
      const lost = this.#lostResults(status);
      for (const cmd of [...(this.#current ? [this.#current] : []), ...this.#queue]) {
        this.#settle(cmd, "Error", lost);
      }
      this.#current = null;
      this.#queue = [];
    }
    this.#failReady(this.#startFailure(status));
    this.#closeChannel();
    await this.#writes;
  }

  /** Immediate when this process may signal others (`--allow-run` unscoped, as in tests). */
  #killGroup(): void {
    if (this.#hostPid === null) return;
    try {
      Deno.kill(-this.#hostPid, "SIGKILL"); // the host is a session (and group) leader
    } catch { /* not allowed, or already gone: the channel EOF does it */ }
  }

  #signalChild(signal: Deno.Signal): void {
    try {
      this.#child?.kill(signal); // the host itself, or the wrapper that started it
    } catch { /* already gone */ }
  }

  #closeChannel(): void {
    const writer = this.#writer;
    if (!writer) return;
    this.#writer = null;
    this.#writes = this.#writes.then(() => writer.close()).catch(() => {/* the pipe is already broken */});
  }

  #send(msg: ParentMessage): void {
    const writer = this.#writer;
    if (!writer) return;
    const bytes = encodeMessage(msg);
    this.#writes = this.#writes.then(() => writer.write(bytes)).catch(() => {/* exit path reports it */});
  }

  // ----- protocol -----

  #onMessage(msg: HostMessage): void {
    switch (msg.type) {
      case "hello":
        this.#hostPid = msg.pid;
        break;
      case "ready":
        if (this.state === "Pending" && !this.#killed) {
          this.state = "Running";
          this.#readySettled = true;
          this.#everReady = true;
          this.#resolveReady({ ok: true, python: msg.python, ipython: msg.ipython });
          this.#pump();
        } // a later "ready" follows restartPython(): nothing changes for the parent
        break;
      case "fatal":
        this.#fatal = msg.message;
        break;
      case "done":
        if (this.#current?.id === msg.id) this.#finish(this.#current, msg);
        break;
    }
  }

  #finish(cmd: Command, msg: Extract<HostMessage, { type: "done" }>): void {
    this.#current = null;
    if (msg.interrupted && cmd.cancelOutcome) {
      cmd.capturedOutput = msg.captured;
      if (cmd.cancelOutcome === "Cancelled") this.#settle(cmd, "Cancelled", null);
      else this.#settle(cmd, "Finished", commandCancelled());
    } else {
      // A cancel that came too late: the command had already finished on its own.
      this.#settle(cmd, "Finished", msg.results);
    }
    this.#pump();
  }

  #pump(): void {
    if (this.state !== "Running" || this.#current || !this.alive) return;
    const cmd = this.#queue.shift();
    if (!cmd) return;
    this.#current = cmd;
    cmd.status = "Running";
    cmd.startedAt = this.#now();
    this.#send({ type: "execute", id: cmd.id, language: cmd.language, command: cmd.command });
  }

  #settle(cmd: Command, status: CommandStatus, results: CommandResults | null): void {
    if (cmd.terminal) return;
    cmd.status = status;
    cmd.results = results;
    cmd.finishedAt = this.#now();
    this.lastUsedAt = cmd.finishedAt;
    cmd.resolve();
  }

  #lostResults(status?: Deno.CommandStatus): CommandResults {
    return this.#everReady ? kernelUnavailable() : replStartFailed(this.#startFailure(status));
  }

  #startFailure(status?: Deno.CommandStatus): string {
    if (this.#fatal) return this.#fatal;
    const how = status
      ? (status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`)
      : "";
    const tail = this.#stderrTail.trim().split("\n").slice(-5).join("\n");
    return `${this.#python} ${how || "stopped"} before it was ready${tail ? `: ${tail}` : ""}`;
  }

  #failReady(message: string): void {
    if (this.#readySettled) return;
    this.#readySettled = true;
    this.startError = message;
    this.#resolveReady({ ok: false, message });
  }
}
