// Jobs API one-time runs (docs/databricks-behaviour.md §4): runs/submit, get, get-output, cancel, cancel-all,
// list and delete under /api/2.2, /api/2.1 and /api/2.0, each task a spark_python_task run by a real python3
// (job_runs.ts, job_process.ts). Plus its control API: the workspace's limit of active task runs, the
// logs limit, and a look at every run.

import { controlBody, ControlError } from "./control.ts";
import { apiError, invalidParameter } from "./errors.ts";
import { type EmuRequest, jsonResponse, ok } from "./http.ts";
import { type JobRun, RunStore, type TaskRun } from "./job_runs.ts";
import { parseSubmit, serverlessDisabled } from "./job_submit.ts";
import { outputJson, runJson, runState, taskRunJson, taskState, type ViewContext } from "./job_views.ts";
import type { Router } from "./router.ts";
import type { EmulatorModule, EmulatorState } from "./state.ts";

export interface JobTaskInfo {
  run_id: number;
  task_key: string;
  phase: string;
  state: Record<string, unknown>;
  cluster_id: string | null;
  /** Serverless tasks: the environment they use, else null. */
  environment_key: string | null;
  /** Serverless tasks with dependencies: the venv they were installed into, else null. */
  venv: string | null;
  pid: number | null;
  cwd: string | null;
  python_file: string;
  /** Why the python3 process ended without reporting (the emulator's own diagnosis), else null. */
  crash: string | null;
}

export interface JobRunInfo {
  run_id: number;
  job_id: number;
  run_name: string;
  state: Record<string, unknown>;
  submitted_at: number;
  /** The submit body's `environments`, as given (runs/get does not echo them). */
  environments: Record<string, unknown>[];
  tasks: JobTaskInfo[];
}

export interface JobsSnapshot {
  serverless_enabled: boolean;
  run_limit: number;
  logs_limit_bytes: number;
  runs: JobRunInfo[];
}

/** The jobs part of the control API (also under /__emulator/jobs, see README.md). */
export interface JobsControl {
  /** Every run (newest first) with its task runs' phase, cluster, pid and CWD; the limits. */
  jobRuns(): JobsSnapshot;
  /** Active task runs allowed in the workspace (Databricks: 1000); beyond it a run is skipped or queued. */
  setJobRunLimit(limit: number): void;
  /** Bytes of `logs` kept per task run, the last ones (Databricks: 5 MB). */
  setJobLogsLimit(bytes: number): void;
  /** Serverless compute for jobs on or off (default and reset: on); off refuses serverless submits. */
  setServerless(enabled: boolean): void;
}

const VERSIONS = ["2.2", "2.1", "2.0"];
const LIST_LIMIT_MAX = 25;
const LIST_LIMIT_DEFAULT = 20;

type Obj = Record<string, unknown>;

/** A run id from the query or the body: a number, or its decimal text. */
function runIdArg(raw: unknown): number {
  if (raw === undefined || raw === null || raw === "") {
    throw invalidParameter("Missing required field: run_id");
  }
  const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw invalidParameter(`Invalid run_id: ${JSON.stringify(raw)}`);
  return n;
}

const runNotFound = (id: number) => invalidParameter(`Run ${id} does not exist.`);

function boolArg(v: string | null, name: string): boolean {
  if (v === null || v === "") return false;
  if (v === "true") return true;
  if (v === "false") return false;
  throw invalidParameter(`Invalid value for ${name}: ${v} (expected true or false)`);
}

function intArg(v: string | null, name: string): number | undefined {
  if (v === null || v === "") return undefined;
  if (!/^\d+$/.test(v)) throw invalidParameter(`Invalid value for ${name}: ${v}`);
  return Number(v);
}

export function jobsModule(
  state: EmulatorState,
  store = new RunStore(state),
): EmulatorModule & { control: JobsControl } {
  const view = (req?: EmuRequest): ViewContext => ({
    now: state.now(),
    workspaceId: state.workspaceId,
    baseUrl: state.baseUrl ?? req?.url.origin,
  });

  const taskInfo = (t: TaskRun): JobTaskInfo => ({
    run_id: t.runId,
    task_key: t.spec.taskKey,
    phase: t.phase,
    state: taskState(t).state,
    cluster_id: t.clusterId ?? null,
    environment_key: t.spec.compute.kind === "serverless" ? t.spec.compute.environmentKey : null,
    venv: t.env && "venv" in t.env ? t.env.venv ?? null : null,
    pid: t.proc?.pid ?? t.pid ?? null,
    cwd: t.cwd ?? null,
    python_file: t.spec.pythonFile.given,
    crash: t.crash ?? null,
  });
  const runInfo = (r: JobRun): JobRunInfo => ({
    run_id: r.runId,
    job_id: r.jobId,
    run_name: r.spec.runName,
    state: runState(r).state,
    submitted_at: r.submittedAt,
    environments: r.spec.environments,
    tasks: r.tasks.map(taskInfo),
  });

  const control: JobsControl = {
    jobRuns() {
      store.tick();
      return {
        serverless_enabled: store.serverlessEnabled,
        run_limit: store.runLimit,
        logs_limit_bytes: store.logsLimit,
        runs: store.runs().map(runInfo),
      };
    },
    setJobRunLimit(limit) {
      if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 0) {
        throw new ControlError(400, "limit must be a non-negative integer");
      }
      store.runLimit = limit;
      store.tick(); // queued runs may fit now
    },
    setJobLogsLimit(bytes) {
      if (typeof bytes !== "number" || !Number.isInteger(bytes) || bytes < 0) {
        throw new ControlError(400, "bytes must be a non-negative integer");
      }
      store.logsLimit = bytes;
    },
    setServerless(enabled) {
      if (typeof enabled !== "boolean") throw new ControlError(400, "enabled must be true or false");
      store.serverlessEnabled = enabled;
    },
  };

  function submit(req: EmuRequest): Response {
    const spec = parseSubmit(req.json(), state.clusters);
    if (!store.serverlessEnabled && spec.tasks.some((t) => t.compute.kind === "serverless")) {
      throw serverlessDisabled();
    }
    const run = store.submit(spec, req.principal ?? state.credentials.user, req.url.origin);
    return ok({ run_id: run.runId });
  }

  function get(req: EmuRequest): Response {
    store.tick();
    const id = runIdArg(req.query.get("run_id"));
    const run = store.run(id);
    if (run) {
      return ok(
        runJson(run, view(req), {
          tasks: true,
          pageToken: intArg(req.query.get("page_token"), "page_token"),
        }),
      );
    }
    const task = store.task(id);
    if (task) return ok(taskRunJson(task, view(req)));
    throw runNotFound(id);
  }

  function getOutput(req: EmuRequest): Response {
    store.tick();
    const id = runIdArg(req.query.get("run_id"));
    if (store.run(id)) {
      // Observed for every run created through 2.1+, single-task ones included
      // (docs/databricks-behaviour.md §4.3).
      throw invalidParameter(
        "Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of " +
          "each individual task run instead.",
      );
    }
    const task = store.task(id);
    if (!task) throw runNotFound(id);
    return ok(outputJson(task, view(req)));
  }

  function cancel(req: EmuRequest): Response {
    const id = runIdArg(req.json().run_id);
    if (!store.cancel(id)) throw runNotFound(id);
    return ok({});
  }

  function cancelAll(req: EmuRequest): Response {
    const body = req.json();
    const jobId = body.job_id;
    const queuedOnly = body.all_queued_runs === true;
    if (jobId === undefined && !queuedOnly) {
      throw invalidParameter("Either job_id or all_queued_runs must be specified.");
    }
    store.tick();
    for (const run of store.runs()) {
      if (run.endTime !== undefined) continue;
      if (jobId !== undefined && String(run.jobId) !== String(jobId)) continue;
      if (queuedOnly && !run.tasks.every((t) => t.phase === "QUEUED")) continue;
      store.cancel(run.runId);
    }
    return ok({});
  }

  function list(req: EmuRequest): Response {
    store.tick();
    const q = req.query;
    const activeOnly = boolArg(q.get("active_only"), "active_only");
    const completedOnly = boolArg(q.get("completed_only"), "completed_only");
    if (activeOnly && completedOnly) {
      throw invalidParameter("active_only and completed_only cannot both be true.");
    }
    const limitArg = intArg(q.get("limit"), "limit");
    if (limitArg !== undefined && limitArg > LIST_LIMIT_MAX) {
      throw invalidParameter(`limit must be between 0 and ${LIST_LIMIT_MAX}, got ${limitArg}.`);
    }
    const limit = limitArg === undefined ? LIST_LIMIT_DEFAULT : limitArg === 0 ? LIST_LIMIT_MAX : limitArg;
    const token = q.get("page_token");
    let offset = intArg(q.get("offset"), "offset") ?? 0;
    if (token) offset = decodeToken(token);
    const runType = q.get("run_type");
    const jobId = q.get("job_id");
    const from = intArg(q.get("start_time_from"), "start_time_from");
    const to = intArg(q.get("start_time_to"), "start_time_to");
    const expand = boolArg(q.get("expand_tasks"), "expand_tasks");
    const runs = store.runs().filter((r) =>
      (!activeOnly || r.endTime === undefined) &&
      (!completedOnly || r.endTime !== undefined) &&
      (!runType || runType === "SUBMIT_RUN") &&
      (!jobId || String(r.jobId) === jobId) &&
      (from === undefined || r.submittedAt >= from) &&
      (to === undefined || r.submittedAt <= to)
    );
    const page = runs.slice(offset, offset + limit);
    const out: Obj = { has_more: offset + limit < runs.length };
    // An empty list is left out, as protobuf JSON leaves out empty repeated fields.
    if (page.length) out.runs = page.map((r) => runJson(r, view(req), { tasks: expand }));
    if (offset + limit < runs.length) out.next_page_token = encodeToken(offset + limit);
    if (offset > 0) out.prev_page_token = encodeToken(Math.max(0, offset - limit));
    return ok(out);
  }

  function remove(req: EmuRequest): Response {
    const id = runIdArg(req.json().run_id);
    store.tick();
    const outcome = store.delete(id);
    if (outcome === "unknown") throw runNotFound(id);
    if (outcome === "active") {
      throw apiError(
        400,
        "INVALID_STATE",
        `Run ${id} is still active and cannot be deleted. Cancel it first.`,
      );
    }
    return ok({});
  }

  return {
    name: "jobs",
    control,
    routes(router: Router) {
      for (const v of VERSIONS) {
        const base = `/api/${v}/jobs/runs`;
        router.post(`${base}/submit`, submit);
        router.get(`${base}/get`, get);
        router.get(`${base}/get-output`, getOutput);
        router.post(`${base}/cancel`, cancel);
        router.post(`${base}/cancel-all`, cancelAll);
        router.get(`${base}/list`, list);
        router.post(`${base}/delete`, remove);
      }
    },
    controlRoutes(router: Router) {
      const json = (v: unknown) => jsonResponse(200, v);
      router.get("/__emulator/jobs", () => json(control.jobRuns()));
      router.post("/__emulator/jobs/run-limit", (req) => {
        control.setJobRunLimit(controlBody(req).limit as number);
        return json({ limit: store.runLimit });
      });
      router.post("/__emulator/serverless", (req) => {
        control.setServerless(controlBody(req).enabled as boolean);
        return json({ enabled: store.serverlessEnabled });
      });
      router.get("/__emulator/serverless", () => json({ enabled: store.serverlessEnabled }));
      router.post("/__emulator/jobs/logs-limit", (req) => {
        control.setJobLogsLimit(controlBody(req).bytes as number);
        return json({ bytes: store.logsLimit });
      });
    },
    close: () => store.close(),
  };
}

// Page tokens are opaque to clients; an offset in base64 keeps them from looking like numbers to rely on.
const encodeToken = (offset: number) => btoa(`offset:${offset}`);

function decodeToken(token: string): number {
  try {
    const m = /^offset:(\d+)$/.exec(atob(token));
    if (m) return Number(m[1]);
  } catch { /* not base64 */ }
  throw invalidParameter(`Invalid page_token: ${token}`);
}
