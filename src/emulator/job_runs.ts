// One-time job runs (runs/submit) and their task runs: the life cycle, the clusters they wait for, the
// python3 process of each task, cancellation, timeouts and the workspace's limit of active task runs.
//
// Like the clusters, a run moves lazily: every jobs request (and every process exit, and a timer for the
// next deadline) calls tick(), which applies what is due on the emulator clock. A task's script runs in
// real time, so with an injected clock a test advances the clock for the clock-based steps (cluster start,
// TERMINATING, timeouts) and waits in real time for the script.
//
//   QUEUED ─▶ BLOCKED ─▶ PENDING ─▶ RUNNING ─▶ TERMINATING ─▶ DONE (TERMINATED / INTERNAL_ERROR / SKIPPED)
//   (limit)   (depends_on) (cluster)  (python3)  (cleanupMs / timeScale)
//                          (serverless: a start delay and the environment's pip install)

import { join } from "node:path";
import type { ClusterRecord } from "./cluster_model.ts";
import { EmulatorHttpError } from "./errors.ts";
import {
  EXEC_VENV,
  spawnTaskProcess,
  type TaskProcess,
  type TaskProcessOptions,
  type TaskResult,
} from "./job_process.ts";
import type { SubmitSpec, TaskSpec } from "./job_submit.ts";
import { createRng, type Rng } from "./random.ts";
import type { EmulatorState, Principal } from "./state.ts";
import { parentOf } from "./workspace_store.ts";
import { childEnv, envOr } from "./child_env.ts";

export type Phase = "QUEUED" | "BLOCKED" | "PENDING" | "RUNNING" | "TERMINATING" | "DONE";
export type ResultState =
  | "SUCCESS"
  | "FAILED"
  | "TIMEDOUT"
  | "CANCELED"
  | "MAXIMUM_CONCURRENT_RUNS_REACHED"
  | "UPSTREAM_FAILED"
  | "UPSTREAM_CANCELED";

/** How a task (or run) ended, in both the legacy `state` and the v2 `status` vocabulary. */
export interface Ending {
  lifeCycle: "TERMINATED" | "INTERNAL_ERROR" | "SKIPPED";
  result: ResultState;
  message: string;
  code: string;
  type: "SUCCESS" | "CLIENT_ERROR" | "INTERNAL_ERROR" | "CLOUD_FAILURE";
  userCancelledOrTimedout: boolean;
}

export interface TaskOutput {
  logs: string;
  logsTruncated: boolean;
  error?: string;
  errorTrace?: string;
}

export interface TaskRun {
  readonly runId: number;
  readonly spec: TaskSpec;
  readonly run: JobRun;
  phase: Phase;
  ending?: Ending;
  /** Emulator clock, epoch ms: left QUEUED/BLOCKED, script started, script ended, task ended. */
  startTime?: number;
  execStart?: number;
  execEnd?: number;
  endTime?: number;
  clusterId?: string;
  clusterGeneration?: number;
  sparkContextId?: string;
  /** The cluster was created for this task (new_cluster) and is terminated with it. */
  jobCluster: boolean;
  /** This task started a terminated all-purpose cluster (it does not start it twice). */
  startedCluster: boolean;
  proc?: TaskProcess;
  /** Between RUNNING and the process being spawned (the workspace is being written out). */
  starting: boolean;
  /** An ending decided before the process ended (cancel, timeout, lost cluster). */
  forced?: Ending;
  /** The ending shown once TERMINATING is over. */
  after?: Ending;
  terminatingUntil?: number;
  output?: TaskOutput;
  pid?: number;
  cwd?: string;
  crash?: string;
  token?: string;
  killTimer?: ReturnType<typeof setTimeout>;
  /** Serverless: when the compute is there (emulator clock). */
  computeReadyAt?: number;
  /** Serverless: the task's environment once prepared: its python3, or why pip failed. */
  env?: { python?: string; venv?: string } | { failure: string };
  /** Serverless: the pip (or venv) process that prepares the environment. */
  setupProc?: Deno.ChildProcess;
}

export interface JobRun {
  readonly runId: number;
  readonly jobId: number;
  readonly spec: SubmitSpec;
  readonly creator: Principal;
  /** The submit request's origin: the emulator's URL when it does not know its own. */
  readonly origin: string;
  readonly submittedAt: number;
  readonly tasks: TaskRun[];
  queuedAt?: number;
  dequeuedAt?: number;
  endTime?: number;
  /** The workspace tree written out for this run (once, when its first task starts). */
  mount?: Promise<string>;
}

/** Databricks: 1,000 concurrently running task runs per workspace (docs/databricks-behaviour.md §11). */
export const DEFAULT_RUN_LIMIT = 1000;
/** get-output keeps the last 5 MB of `logs`. */
export const DEFAULT_LOGS_LIMIT = 5 * 1024 * 1024;
/** Nominal TERMINATING time of a task (divided by timeScale). */
export const CLEANUP_MS = 1000;
/** Nominal time a serverless task waits for its compute (divided by timeScale); ours, not measured. */
export const SERVERLESS_START_MS = 10_000;
/** Real time between the SIGINT of a cancel and the SIGKILL of a script that ignores it. */
export const CANCEL_GRACE_MS = 2000;
/** What the driver reports when its Python process died (os._exit, a signal). */
const KERNEL_DIED = "Fatal error: The Python kernel is unresponsive.";
const WORKLOAD_FAILED = "Workload failed, see run output for details";
/** The docstring of WORKSPACE_RUN_LIMIT_EXCEEDED (the service's own state_message is not known). */
const RUN_LIMIT_MESSAGE = "The workspace has reached the quota for the maximum number of concurrent active " +
  "runs. Consider scheduling the runs over a larger time frame.";

export const SUCCESS: Ending = ending("TERMINATED", "SUCCESS", "", "SUCCESS", "SUCCESS");
const workloadFailed = () =>
  ending("TERMINATED", "FAILED", WORKLOAD_FAILED, "RUN_EXECUTION_ERROR", "CLIENT_ERROR");
const setupFailed = (code: string, message: string) =>
  ending("INTERNAL_ERROR", "FAILED", message, code, "CLIENT_ERROR");
const userCanceled = () => ({
  ...ending("TERMINATED", "CANCELED", "Run cancelled.", "USER_CANCELED", "SUCCESS"),
  userCancelledOrTimedout: true,
});
const timedOut = (seconds: number) => ({
  ...ending("TERMINATED", "TIMEDOUT", `Timed out after ${seconds} seconds.`, "CANCELED", "CLIENT_ERROR"),
  userCancelledOrTimedout: true,
});
const runLimitReached = () =>
  ending(
    "SKIPPED",
    "MAXIMUM_CONCURRENT_RUNS_REACHED",
    RUN_LIMIT_MESSAGE,
    "WORKSPACE_RUN_LIMIT_EXCEEDED",
    "CLIENT_ERROR",
  );
const cannotRead = (file: string) =>
  setupFailed(
    "RESOURCE_NOT_FOUND",
    `Cannot read the python file ${file}. Please check driver logs for more details.`,
  );

function ending(
  lifeCycle: Ending["lifeCycle"],
  result: ResultState,
  message: string,
  code: string,
  type: Ending["type"],
): Ending {
  return { lifeCycle, result, message, code, type, userCancelledOrTimedout: false };
}

/** A task that never ran because an upstream task did not succeed ("SKIPPED: Run was never executed"). */
function upstream(up: Ending): Ending {
  const canceled = up.result === "CANCELED" || up.result === "TIMEDOUT" || up.result === "UPSTREAM_CANCELED";
  return canceled
    ? ending("SKIPPED", "UPSTREAM_CANCELED", "Upstream task(s) were canceled.", "SKIPPED", "SUCCESS")
    : ending("SKIPPED", "UPSTREAM_FAILED", "Upstream task(s) failed.", "SKIPPED", "SUCCESS");
}

const ALIVE = new Set(["RUNNING", "RESIZING"]);

export class RunStore {
  runLimit = DEFAULT_RUN_LIMIT;
  logsLimit = DEFAULT_LOGS_LIMIT;
  /** The workspace's serverless compute switch (the control API's); a serverless submit is refused when off. */
  serverlessEnabled = true;
  #runs = new Map<number, JobRun>();
  #tasks = new Map<number, TaskRun>();
  #tokens = new Map<string, number>();
  #rng: Rng;
  #nextId = 0;
  #nextJobId = 0;
  /** The emulator's temp dir for run directories; a promise, so that parallel tasks make only one. */
  #root: Promise<string> | undefined;
  /** Task launches and process exits in flight; close() waits for them. */
  #pending = new Set<Promise<void>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #unsubscribe: (() => void)[];

  constructor(
    private readonly state: EmulatorState,
    private readonly spawn: (o: TaskProcessOptions) => TaskProcess = spawnTaskProcess,
  ) {
    this.#rng = createRng(state.settings.idSeed, "job-runs");
    this.#seedIds();
    this.#unsubscribe = [
      state.events.on("clusterStopped", (e) => this.#clusterStopped(e.clusterId)),
      state.events.on("reset", () => this.#reset()),
    ];
  }

  #seedIds(): void {
    // Run ids look like Databricks' (15-16 digits, below 2^53) and grow; job ids are smaller.
    this.#nextId = 100_000_000_000_000 + this.#rng.int(800_000_000) * 1_000_000;
    this.#nextJobId = 10_000_000_000_000 + this.#rng.int(800_000_000) * 100_000;
  }

  #id(): number {
    this.#nextId += 1 + this.#rng.int(4096);
    return this.#nextId;
  }

  // ----- API -----

  /** A new run, or the run this idempotency token already started. */
  submit(spec: SubmitSpec, creator: Principal, origin: string): JobRun {
    const known = spec.idempotencyToken === undefined
      ? undefined
      : this.#runs.get(this.#tokens.get(spec.idempotencyToken) ?? -1);
    if (known) return known;
    this.tick(); // settles what is due first, so that a finished run frees its place
    const now = this.state.now();
    const tasks: TaskRun[] = [];
    const run: JobRun = {
      runId: this.#id(),
      jobId: this.#nextJobId += 1 + this.#rng.int(1000),
      spec,
      creator,
      origin,
      submittedAt: now,
      tasks,
    };
    for (const t of spec.tasks) {
      tasks.push({
        runId: this.#id(),
        spec: t,
        run,
        phase: "QUEUED",
        jobCluster: false,
        startedCluster: false,
        starting: false,
      });
    }
    const full = this.#active() + tasks.length > this.runLimit;
    const queueAhead = [...this.#runs.values()].some((r) => this.#queued(r));
    if (spec.queueEnabled && (full || queueAhead)) run.queuedAt = now;
    else if (full) {
      for (const t of tasks) this.#finish(t, runLimitReached(), now);
      run.endTime = now;
    } else this.#dequeue(run, now);
    this.#runs.set(run.runId, run);
    tasks.forEach((t) => this.#tasks.set(t.runId, t));
    if (spec.idempotencyToken !== undefined) this.#tokens.set(spec.idempotencyToken, run.runId);
    this.tick();
    return run;
  }

  run(runId: number): JobRun | undefined {
    return this.#runs.get(runId);
  }

  task(runId: number): TaskRun | undefined {
    return this.#tasks.get(runId);
  }

  /** Newest first (by start time, then id). */
  runs(): JobRun[] {
    return [...this.#runs.values()].sort((a, b) => b.submittedAt - a.submittedAt || b.runId - a.runId);
  }

  /** runs/cancel: the whole run, or one task run; asynchronous (the script gets SIGINT). */
  cancel(runId: number): boolean {
    const now = this.state.now();
    const run = this.#runs.get(runId);
    const tasks = run ? run.tasks : this.#tasks.has(runId) ? [this.#tasks.get(runId)!] : undefined;
    if (!tasks) return false;
    for (const t of tasks) this.#stop(t, userCanceled(), "interrupt", now);
    this.tick();
    return true;
  }

  /** runs/delete: only a run that has ended. */
  delete(runId: number): "deleted" | "active" | "unknown" {
    const run = this.#runs.get(runId);
    if (!run) return "unknown";
    if (run.endTime === undefined) return "active";
    this.#runs.delete(runId);
    run.tasks.forEach((t) => this.#tasks.delete(t.runId));
    for (const [token, id] of this.#tokens) if (id === runId) this.#tokens.delete(token);
    return "deleted";
  }

  /** Applies everything that is due on the emulator clock. */
  tick(): void {
    if (this.#closed) return;
    const now = this.state.now();
    for (const run of this.#runs.values()) {
      if (!this.#queued(run)) continue;
      if (this.#active() + run.tasks.length > this.runLimit) break; // first in, first out
      this.#dequeue(run, now);
    }
    for (const run of this.#runs.values()) if (run.endTime === undefined) this.#advance(run, now);
    this.#schedule(now);
  }

  /** Kills every task process and waits until all are reaped; removes the temp dir. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#unsubscribe.forEach((off) => off());
      clearTimeout(this.#timer);
      this.#killAll();
    }
    while (this.#pending.size) await Promise.all(this.#pending);
    await this.#removeRoot();
  }

  // ----- life cycle -----

  #queued(run: JobRun): boolean {
    return run.endTime === undefined && run.tasks.every((t) => t.phase === "QUEUED");
  }

  /** Task runs that count against the workspace limit. */
  #active(): number {
    let n = 0;
    for (const t of this.#tasks.values()) if (t.phase !== "QUEUED" && t.phase !== "DONE") n++;
    return n;
  }

  #dequeue(run: JobRun, now: number): void {
    if (run.queuedAt !== undefined) run.dequeuedAt = now;
    for (const t of run.tasks) {
      if (t.phase !== "QUEUED") continue;
      if (t.spec.dependsOn.length) t.phase = "BLOCKED";
      else {
        t.phase = "PENDING";
        t.startTime = now;
      }
    }
  }

  #advance(run: JobRun, now: number): void {
    const limit = run.spec.timeoutSeconds;
    if (limit > 0 && !this.#queued(run) && now >= run.submittedAt + limit * 1000) {
      for (const t of run.tasks) this.#stop(t, timedOut(limit), "interrupt", now);
    }
    for (let changed = true, guard = 0; changed && guard < 100; guard++) {
      changed = false;
      for (const t of run.tasks) if (this.#step(t, now)) changed = true;
    }
    if (run.tasks.every((t) => t.phase === "DONE")) {
      run.endTime = Math.max(now, ...run.tasks.map((t) => t.endTime ?? now));
      this.#unmount(run);
    }
  }

  /** One step of a task's life; true when its phase changed. */
  #step(task: TaskRun, now: number): boolean {
    const limit = task.spec.timeoutSeconds;
    const late = limit > 0 && task.startTime !== undefined && now >= task.startTime + limit * 1000;
    switch (task.phase) {
      case "BLOCKED": {
        const ups = task.spec.dependsOn.map((k) => task.run.tasks.find((t) => t.spec.taskKey === k)!);
        const bad = ups.find((u) => u.phase === "DONE" && u.ending!.result !== "SUCCESS");
        if (bad) {
          this.#finish(task, upstream(bad.ending!), now);
          return true;
        }
        if (!ups.every((u) => u.phase === "DONE")) return false;
        task.phase = "PENDING";
        task.startTime = now;
        return true;
      }
      case "PENDING": {
        if (late) {
          this.#stop(task, timedOut(limit), "interrupt", now);
          return true;
        }
        const ready = this.#cluster(task);
        if (ready === "wait") return false;
        if (ready !== "ready") this.#finish(task, ready, now);
        else this.#start(task, now);
        return true;
      }
      case "RUNNING": {
        if (late) {
          this.#stop(task, timedOut(limit), "interrupt", now);
          return true;
        }
        const lost = this.#clusterLost(task);
        if (lost) {
          this.#stop(task, lost, "kill", now);
          return true;
        }
        return false;
      }
      case "TERMINATING":
        if (task.proc || task.starting || !task.after || now < (task.terminatingUntil ?? now)) return false;
        this.#finish(task, task.after, now);
        return true;
      default:
        return false;
    }
  }

  /** Whether the task's compute is up: "ready", "wait", or the ending of a setup failure. */
  #cluster(task: TaskRun): "ready" | "wait" | Ending {
    const compute = task.spec.compute;
    if (compute.kind === "serverless") return this.#serverless(task);
    if (compute.kind === "new" && task.clusterId === undefined) {
      try {
        const rec = this.state.clusters.create(
          { ...compute.spec, cluster_name: `job-${task.run.jobId}-run-${task.runId}` },
          {
            source: "JOB",
            creator: task.run.creator.userName,
            extraTags: { JobId: String(task.run.jobId), RunName: task.run.spec.runName },
          },
        );
        task.clusterId = rec.id;
        task.jobCluster = true;
      } catch (e) {
        // As seen in databrickslabs/dbx#782: "… Cause: BAD_REQUEST: INVALID_PARAMETER_VALUE: Invalid spark version …"
        return setupFailed("INVALID_CLUSTER_REQUEST", preparingFailed(e));
      }
    }
    const id = compute.kind === "existing" ? compute.clusterId : task.clusterId!;
    task.clusterId = id;
    const rec = this.state.clusters.find(id);
    if (!rec) {
      // The observed text for a run whose existing cluster was deleted (polar-rams/databricks-sdk-golang#6).
      return setupFailed(
        "RESOURCE_NOT_FOUND",
        `Run executed on existing cluster ID ${id} failed since the cluster does not exist.`,
      );
    }
    switch (rec.state) {
      case "RUNNING":
      case "RESIZING":
        return "ready";
      case "PENDING":
      case "RESTARTING":
      case "TERMINATING":
        return "wait";
      case "TERMINATED":
        if (task.jobCluster || task.startedCluster) {
          return setupFailed("CLUSTER_ERROR", `Cluster ${id} was terminated before the run could start.`);
        }
        // A job on a terminated all-purpose cluster starts it and waits, as the Jobs service does.
        try {
          this.state.clusters.start(id);
        } catch (e) {
          return setupFailed("INVALID_CLUSTER_REQUEST", preparingFailed(e));
        }
        task.startedCluster = true;
        return "wait";
      default:
        return setupFailed("CLUSTER_ERROR", `Cluster ${id} is in unexpected state ${rec.state}.`);
    }
  }

  /**
   * No cluster: the compute comes after a short start delay, and meanwhile the environment's dependencies
   * are pip-installed into a venv of the task's own that sees the system's packages (so what python3
   * already has installs offline, and anything else fails the way pip fails without a network).
   */
  #serverless(task: TaskRun): "ready" | "wait" | Ending {
    const now = this.state.now();
    if (task.computeReadyAt === undefined) {
      task.computeReadyAt = now + SERVERLESS_START_MS / this.state.settings.timeScale;
      const compute = task.spec.compute as Extract<TaskSpec["compute"], { kind: "serverless" }>;
      if (compute.dependencies.length === 0) task.env = {};
      else this.#track(this.#prepareEnv(task, compute.dependencies));
    }
    if (now < task.computeReadyAt || task.env === undefined) return "wait";
    if ("failure" in task.env) {
      task.execEnd = now;
      task.output = { logs: "", logsTruncated: false, error: task.env.failure };
      return setupFailed("LIBRARY_INSTALLATION_ERROR", task.env.failure);
    }
    return "ready";
  }

  async #prepareEnv(task: TaskRun, dependencies: string[]): Promise<void> {
    const python = envOr("DBXR_EMULATOR_PYTHON", "python3");
    const run = (cmd: string, args: string[]) => {
      const proc = new Deno.Command(cmd, {
        args,
        env: childEnv({ PIP_NO_INPUT: "1", PIP_DISABLE_PIP_VERSION_CHECK: "1" }),
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      task.setupProc = proc;
      return proc.output().finally(() => task.setupProc = undefined);
    };
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    try {
      const dir = await (task.run.mount ??= this.#mount(task.run));
      const venv = join(dir, `env-${task.runId}`);
      // Without its own pip: the system's pip (a system site package) installs into the venv just the same.
      const made = await run(python, ["-m", "venv", "--system-site-packages", "--without-pip", venv]);
      if (!made.success) throw new Error(`python3 -m venv failed: ${decode(made.stderr).trim()}`);
      const venvPython = join(venv, "bin", "python");
      if (this.#closed || task.phase === "DONE") return;
      const pip = await run(python, [
        "-c",
        EXEC_VENV,
        venvPython,
        "-m",
        "pip",
        "install",
        "--retries",
        "1",
        ...dependencies,
      ]);
      task.env = pip.success
        ? { python: venvPython, venv }
        : { failure: libraryFailure(dependencies, decode(pip.stdout) + decode(pip.stderr)) };
    } catch (e) {
      task.env = { failure: libraryFailure(dependencies, e instanceof Error ? e.message : String(e)) };
    }
    this.tick();
  }

  #clusterLost(task: TaskRun): Ending | undefined {
    if (task.clusterId === undefined || task.forced) return undefined;
    const rec = this.state.clusters.find(task.clusterId);
    if (rec && ALIVE.has(rec.state) && rec.generation === task.clusterGeneration) return undefined;
    return setupFailed("CLUSTER_ERROR", `Cluster ${task.clusterId} was terminated during the run.`);
  }

  #clusterStopped(clusterId: string): void {
    const now = this.state.now();
    for (const t of this.#tasks.values()) {
      if (t.phase === "RUNNING" && t.clusterId === clusterId && !t.forced) {
        this.#stop(
          t,
          setupFailed("CLUSTER_ERROR", `Cluster ${clusterId} was terminated during the run.`),
          "kill",
          now,
        );
      }
    }
  }

  #start(task: TaskRun, now: number): void {
    task.phase = "RUNNING";
    task.execStart = now;
    const rec = task.clusterId === undefined ? undefined : this.state.clusters.find(task.clusterId);
    task.clusterGeneration = rec?.generation;
    task.sparkContextId = rec?.sparkContextId;
    const file = task.spec.pythonFile;
    let failure: Ending | undefined;
    if (file.kind === "git") {
      failure = setupFailed(
        "REPOSITORY_CHECKOUT_FAILED",
        "Git-sourced python files are not available in the dbxr emulator (it has no network); " +
          "use a workspace path.",
      );
    } else if (file.kind === "uri" || this.state.workspace.get(file.path)?.object_type !== "FILE") {
      // A NOTEBOOK at that path is not a file: `workspace import --language PYTHON` makes one (the seed's trap).
      failure = cannotRead(file.given);
    }
    if (failure) {
      task.execEnd = now;
      task.output = { logs: "", logsTruncated: false, error: failure.message };
      this.#finish(task, failure, now);
      return;
    }
    task.starting = true;
    this.#track(this.#launch(task, rec));
  }

  async #launch(task: TaskRun, cluster: ClusterRecord | undefined): Promise<void> {
    const run = task.run;
    let result: TaskResult;
    try {
      const dir = await (run.mount ??= this.#mount(run));
      const wsPath = (task.spec.pythonFile as { path: string }).path;
      const major = runtimeMajor(cluster);
      const driverDir = join(dir, "driver");
      const mounts: Record<string, string> = { "/Workspace": join(dir, "Workspace") };
      // DBR 14+: the CWD is the script's directory; before, the driver's own directory.
      const cwd = major === undefined || major >= 14 ? join(dir, "Workspace", parentOf(wsPath)) : driverDir;
      if (cwd === driverDir) mounts["/databricks/driver"] = driverDir;
      task.cwd = cwd;
      if (task.forced || this.#closed || task.phase === "DONE") {
        task.starting = false;
        this.#exited(task, { outcome: "interrupted", logs: "", logsTruncated: false });
        return;
      }
      const apiUrl = this.state.baseUrl ?? run.origin;
      task.token = this.state.credentials.issueContextToken(run.creator, `job-run-${task.runId}`);
      const env = task.env && !("failure" in task.env) ? task.env : undefined;
      const proc = this.spawn({
        ...(env?.python ? { venvPython: env.python } : {}),
        init: {
          pythonFile: `/Workspace${wsPath}`,
          parameters: task.spec.parameters,
          mounts,
          cwd,
          apiUrl,
          apiToken: task.token,
          workspaceHost: new URL(apiUrl).host,
          sparkConf: sparkConf(task, cluster),
        },
        logsLimit: this.logsLimit,
        env: {
          ...sparkEnvVars(cluster),
          DATABRICKS_RUNTIME_VERSION: runtimeVersion(task, cluster),
        },
      });
      task.proc = proc;
      task.starting = false;
      if (task.forced) proc.interrupt(); // cancelled while the workspace was being written out
      result = await proc.result;
      task.pid = proc.pid ?? undefined;
    } catch (e) {
      task.starting = false;
      result = {
        outcome: "crashed",
        crash: `dbxr emulator: ${e instanceof Error ? e.message : String(e)}`,
        logs: "",
        logsTruncated: false,
      };
    }
    this.#exited(task, result);
  }

  #exited(task: TaskRun, result: TaskResult): void {
    task.proc = undefined;
    clearTimeout(task.killTimer);
    if (task.token) this.state.credentials.revokeContextToken(task.token);
    if (this.#closed || task.phase === "DONE") return;
    const now = this.state.now();
    task.execEnd = now;
    task.crash = result.crash;
    task.output = { logs: result.logs, logsTruncated: result.logsTruncated };
    let outcome: Ending = SUCCESS;
    if (result.outcome === "exception" || result.outcome === "exit" || result.outcome === "interrupted") {
      outcome = workloadFailed();
      task.output.error = result.error ?? "KeyboardInterrupt";
      if (result.errorTrace !== undefined) task.output.errorTrace = result.errorTrace;
    } else if (result.outcome === "crashed") {
      outcome = workloadFailed();
      task.output.error = KERNEL_DIED;
      if (result.crash) task.output.errorTrace = result.crash;
    }
    task.after = task.forced ?? outcome;
    if (task.phase === "RUNNING") {
      task.phase = "TERMINATING";
      task.terminatingUntil = now + CLEANUP_MS / this.state.settings.timeScale;
    }
    this.#releaseCluster(task);
    this.tick();
  }

  /** Cancel, timeout or a lost cluster: ends a task that has not started, interrupts or kills a running one. */
  #stop(task: TaskRun, end: Ending, how: "interrupt" | "kill", now: number): void {
    switch (task.phase) {
      case "QUEUED":
      case "BLOCKED":
      case "PENDING":
        this.#finish(task, end, now);
        return;
      case "RUNNING":
        task.forced = end;
        task.phase = "TERMINATING";
        task.terminatingUntil = now + CLEANUP_MS / this.state.settings.timeScale;
        if (task.proc) {
          if (how === "kill") task.proc.kill();
          else task.proc.interrupt();
          task.killTimer = setTimeout(() => task.proc?.kill(), CANCEL_GRACE_MS);
        }
        return;
      default: // TERMINATING or DONE: too late to change the outcome
    }
  }

  #finish(task: TaskRun, end: Ending, now: number): void {
    try {
      task.setupProc?.kill("SIGKILL"); // a cancelled serverless task stops installing
    } catch { /* already gone */ }
    task.phase = "DONE";
    task.ending = end;
    task.endTime = now;
    this.#releaseCluster(task);
  }

  /** A job cluster goes with its task (JOB_FINISHED, as on the seeded job cluster). */
  #releaseCluster(task: TaskRun): void {
    if (!task.jobCluster || task.clusterId === undefined) return;
    task.jobCluster = false;
    try {
      this.state.clusters.terminate(task.clusterId, { code: "JOB_FINISHED", type: "SUCCESS" });
    } catch { /* already gone */ }
  }

  // ----- deadlines -----

  /** One timer for the next deadline, so that timeouts and cleanups happen even when nobody polls. */
  #schedule(now: number): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let next = Infinity;
    for (const run of this.#runs.values()) {
      if (run.endTime !== undefined) continue;
      if (run.spec.timeoutSeconds > 0) {
        next = Math.min(next, run.submittedAt + run.spec.timeoutSeconds * 1000);
      }
      for (const t of run.tasks) {
        if (t.phase === "DONE" || t.phase === "QUEUED") continue;
        if (t.spec.timeoutSeconds > 0 && t.startTime !== undefined) {
          next = Math.min(next, t.startTime + t.spec.timeoutSeconds * 1000);
        }
        if (t.phase === "TERMINATING" && t.terminatingUntil !== undefined) {
          next = Math.min(next, t.terminatingUntil);
        }
        if (t.phase === "PENDING" && t.computeReadyAt !== undefined) next = Math.min(next, t.computeReadyAt);
        if (t.phase === "PENDING" && t.clusterId !== undefined) {
          const at = this.state.clusters.find(t.clusterId)?.next?.at;
          if (at !== undefined) next = Math.min(next, at);
        }
      }
    }
    if (next === Infinity) return;
    // With an injected clock that stands still the timer just re-checks; tests advance the clock themselves.
    const delay = Math.min(Math.max(next - now, 10), 60_000);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.tick();
    }, delay);
  }

  // ----- processes and directories -----

  #track(p: Promise<void>): void {
    const done: Promise<void> = p.catch(() => {}).finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  async #mount(run: JobRun): Promise<string> {
    const root = await (this.#root ??= Deno.makeTempDir({ prefix: "dbxr-emulator-jobs-" }));
    const dir = join(root, `run-${run.runId}`);
    await this.state.workspace.materialize(join(dir, "Workspace"));
    await Deno.mkdir(join(dir, "driver"), { recursive: true });
    return dir;
  }

  /** The run's copy of the workspace goes once every task has ended (logs live in memory). */
  #unmount(run: JobRun): void {
    const mount = run.mount;
    if (!mount) return;
    run.mount = undefined;
    this.#track(mount.then((dir) => Deno.remove(dir, { recursive: true })).catch(() => {}));
  }

  #killAll(): void {
    for (const t of this.#tasks.values()) {
      clearTimeout(t.killTimer);
      t.proc?.kill();
      try {
        t.setupProc?.kill("SIGKILL");
      } catch { /* already gone */ }
    }
  }

  async #removeRoot(): Promise<void> {
    const root = this.#root;
    this.#root = undefined;
    if (root) await root.then((dir) => Deno.remove(dir, { recursive: true })).catch(() => {});
  }

  #reset(): void {
    this.#killAll();
    for (const t of this.#tasks.values()) {
      t.phase = "DONE"; // process exits that arrive later change nothing
      if (t.token) this.state.credentials.revokeContextToken(t.token);
    }
    this.#runs.clear();
    this.#tasks.clear();
    this.#tokens.clear();
    this.runLimit = DEFAULT_RUN_LIMIT;
    this.logsLimit = DEFAULT_LOGS_LIMIT;
    this.serverlessEnabled = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // The old runs' directories go once their processes are reaped; new runs get a fresh root.
    const root = this.#root;
    this.#root = undefined;
    const previous = Promise.all([...this.#pending]);
    if (root) this.#track(previous.then(() => root).then((dir) => Deno.remove(dir, { recursive: true })));
  }
}

/**
 * The state message of a dependency pip could not install, in the words a cluster library failure is
 * reported with (docs/databricks-behaviour.md §4.5): the requirement pip named, then pip's ERROR lines.
 */
export function libraryFailure(dependencies: string[], output: string): string {
  const named = /No matching distribution found for (\S+)/.exec(output)?.[1] ??
    /Could not find a version that satisfies the requirement (\S+)/.exec(output)?.[1];
  const errors = output.split("\n").map((l) => l.trimEnd()).filter((l) => /^ERROR:/.test(l));
  const detail = (errors.length ? errors : output.trim().split("\n").slice(-5)).join("\n");
  const pkg = named ?? dependencies.join(", ");
  return `Library installation failed for library due to user error for pypi {\n  package: "${pkg}"\n}\n` +
    ` Error messages:\n${detail}`;
}

function preparingFailed(e: unknown): string {
  const body = e instanceof EmulatorHttpError
    ? e.body as { error_code?: string; message?: string }
    : undefined;
  const cause = body ? `${body.error_code}: ${body.message}` : e instanceof Error ? e.message : String(e);
  return `Unexpected user error while preparing the cluster for the job. Cause: BAD_REQUEST: ${cause}`;
}

function runtimeMajor(cluster: ClusterRecord | undefined): number | undefined {
  const v = cluster?.spec.spark_version;
  const m = typeof v === "string" ? /^(\d+)\./.exec(v) : null;
  return m ? Number(m[1]) : undefined;
}

/** DATABRICKS_RUNTIME_VERSION: "16.4" for 16.4.x-cpu-ml-scala2.12; serverless: "client.<environment version>". */
function runtimeVersion(task: TaskRun, cluster: ClusterRecord | undefined): string {
  const compute = task.spec.compute;
  if (compute.kind === "serverless") return `client.${compute.environmentVersion}`;
  const v = cluster?.spec.spark_version;
  const m = typeof v === "string" ? /^(\d+\.\d+)/.exec(v) : null;
  return m ? m[1] : "";
}

/** The cluster's spark_env_vars: environment variables of every process on it, as on Databricks. */
function sparkEnvVars(cluster: ClusterRecord | undefined): Record<string, string> {
  const given = cluster?.spec.spark_env_vars;
  const env: Record<string, string> = {};
  if (typeof given === "object" && given !== null) {
    for (const [k, v] of Object.entries(given)) env[k] = String(v);
  }
  return env;
}

/** The cluster's spark_conf plus the usage tags and job ids that code on a job cluster reads. */
function sparkConf(task: TaskRun, cluster: ClusterRecord | undefined): Record<string, string> {
  const conf: Record<string, string> = {};
  const given = cluster?.spec.spark_conf;
  if (typeof given === "object" && given !== null) {
    for (const [k, v] of Object.entries(given)) conf[k] = String(v);
  }
  if (cluster) {
    conf["spark.databricks.clusterUsageTags.clusterId"] = cluster.id;
    conf["spark.databricks.clusterUsageTags.clusterName"] = String(cluster.spec.cluster_name ?? "");
  }
  conf["spark.databricks.job.id"] = String(task.run.jobId);
  conf["spark.databricks.job.runId"] = String(task.runId);
  return conf;
}
