// The JSON of runs and task runs (docs/databricks-behaviour.md §4.2, §4.3): the legacy `state`, the v2
// `status`, the roll-up of task outcomes into the run's, durations and URLs. Kept apart from job_runs.ts,
// which only moves runs.

import type { Ending, JobRun, TaskRun } from "./job_runs.ts";

export interface ViewContext {
  now: number;
  workspaceId: string;
  /** The emulator's own URL, when the server knows it. */
  baseUrl: string | undefined;
}

type Obj = Record<string, unknown>;

/** What the run shows while it queues (the code's docstring; the service's own words are not known). */
const QUEUED_MESSAGE = "The run was queued due to reaching the workspace limit of active task runs.";

function pendingMessage(task: TaskRun): string {
  if (task.phase === "PENDING" && task.spec.compute.kind !== "serverless") return "Waiting for cluster";
  if (task.phase === "RUNNING") return "In run";
  if (task.phase === "QUEUED") return QUEUED_MESSAGE;
  return "";
}

function endedState(e: Ending): { state: Obj; status: Obj } {
  return {
    state: {
      life_cycle_state: e.lifeCycle,
      result_state: e.result,
      state_message: e.message,
      user_cancelled_or_timedout: e.userCancelledOrTimedout,
    },
    status: { state: "TERMINATED", termination_details: { code: e.code, type: e.type, message: e.message } },
  };
}

function activeState(phase: string, message: string): { state: Obj; status: Obj } {
  const status: Obj = { state: phase };
  if (phase === "QUEUED") {
    status.queue_details = { code: "ACTIVE_RUNS_LIMIT_REACHED", message: QUEUED_MESSAGE };
  }
  return {
    state: {
      life_cycle_state: phase,
      state_message: message,
      user_cancelled_or_timedout: false,
      ...(phase === "QUEUED" ? { queue_reason: QUEUED_MESSAGE } : {}),
    },
    status,
  };
}

export function taskState(task: TaskRun): { state: Obj; status: Obj } {
  return task.phase === "DONE" ? endedState(task.ending!) : activeState(task.phase, pendingMessage(task));
}

/**
 * The run's outcome from its tasks, as the Jobs service rolls them up: a failed task fails the run with the
 * legacy life_cycle_state INTERNAL_ERROR and "Task <key> failed with message: <its message>." (observed,
 * databricks/cli libs/testserver/jobs.go), while status says TERMINATED with the task's code.
 */
export function runEnding(run: JobRun): Ending | undefined {
  if (run.tasks.some((t) => t.phase !== "DONE")) return undefined;
  const endings = run.tasks.map((t) => ({ key: t.spec.taskKey, e: t.ending! }));
  const failed = endings.find(({ e }) => e.result === "FAILED");
  if (failed) {
    const m = failed.e.message;
    const message = `Task ${failed.key} failed with message: ${m}${m.endsWith(".") ? "" : "."}`;
    return { ...failed.e, lifeCycle: "INTERNAL_ERROR", message };
  }
  for (const result of ["TIMEDOUT", "CANCELED", "MAXIMUM_CONCURRENT_RUNS_REACHED"]) {
    const hit = endings.find(({ e }) => e.result === result);
    if (hit) return hit.e;
  }
  const upstream = endings.find(({ e }) =>
    e.result === "UPSTREAM_FAILED" || e.result === "UPSTREAM_CANCELED"
  );
  return upstream ? upstream.e : endings[0].e;
}

export function runState(run: JobRun): { state: Obj; status: Obj } {
  const end = runEnding(run);
  if (end) return endedState(end);
  const phases = run.tasks.map((t) => t.phase);
  const open = run.tasks.filter((t) => t.phase !== "DONE");
  if (phases.every((p) => p === "QUEUED")) return activeState("QUEUED", QUEUED_MESSAGE);
  if (open.every((t) => t.phase === "TERMINATING")) return activeState("TERMINATING", "");
  if (phases.some((p) => p === "RUNNING" || p === "TERMINATING")) return activeState("RUNNING", "In run");
  const pending = open.find((t) => t.phase === "PENDING");
  return activeState("PENDING", pending ? pendingMessage(pending) : "");
}

export function runPageUrl(ctx: ViewContext, run: JobRun, id = run.runId): string {
  return `${ctx.baseUrl ?? run.origin}/?o=${ctx.workspaceId}#job/${run.jobId}/run/${id}`;
}

export function taskJson(task: TaskRun, ctx: ViewContext): Obj {
  const { state, status } = taskState(task);
  const start = task.startTime ?? 0;
  const setup = task.execStart !== undefined ? task.execStart - start : 0;
  const execution = task.execStart !== undefined && task.execEnd !== undefined
    ? task.execEnd - task.execStart
    : 0;
  const cleanup = task.execEnd !== undefined && task.endTime !== undefined ? task.endTime - task.execEnd : 0;
  return {
    run_id: task.runId,
    ...task.spec.settings,
    task_key: task.spec.taskKey,
    state,
    status,
    ...(task.clusterId !== undefined && task.execStart !== undefined
      ? {
        cluster_instance: {
          cluster_id: task.clusterId,
          ...(task.sparkContextId ? { spark_context_id: task.sparkContextId } : {}),
        },
      }
      : {}),
    start_time: start,
    setup_duration: setup,
    execution_duration: execution,
    cleanup_duration: cleanup,
    end_time: task.endTime ?? 0,
    attempt_number: 0,
    run_page_url: runPageUrl(ctx, task.run, task.runId),
  };
}

/** Fields a run and a task run shown as a run (get-output's `metadata`) share. */
function runHeader(run: JobRun, ctx: ViewContext): Obj {
  return {
    job_id: run.jobId,
    creator_user_name: run.creator.userName,
    run_name: run.spec.runName,
    run_type: "SUBMIT_RUN",
    trigger: "ONE_TIME",
    run_page_url: runPageUrl(ctx, run),
  };
}

/** runs/get (tasks paged by 100, as in 2.2) and, without tasks, runs/list. */
export function runJson(
  run: JobRun,
  ctx: ViewContext,
  opts: { tasks: boolean; pageToken?: number } = { tasks: true },
): Obj {
  const { state, status } = runState(run);
  const end = run.endTime;
  const out: Obj = {
    ...runHeader(run, ctx),
    run_id: run.runId,
    number_in_job: run.runId,
    original_attempt_run_id: run.runId,
    state,
    status,
    start_time: run.submittedAt,
    // Multi-task runs report 0 here and the total in run_duration (SDK docstring of setup_duration).
    setup_duration: 0,
    execution_duration: 0,
    cleanup_duration: 0,
    end_time: end ?? 0,
    run_duration: (end ?? ctx.now) - run.submittedAt,
    ...(run.queuedAt !== undefined
      ? { queue_duration: (run.dequeuedAt ?? end ?? ctx.now) - run.queuedAt }
      : {}),
    format: "MULTI_TASK",
    attempt_number: 0,
  };
  if (opts.tasks) {
    const from = opts.pageToken ?? 0;
    const page = run.tasks.slice(from, from + 100);
    out.tasks = page.map((t) => taskJson(t, ctx));
    if (from + 100 < run.tasks.length) {
      out.next_page_token = String(from + 100);
      out.has_more = true;
    }
  }
  return out;
}

/** A task run as a run: runs/get with a task run id, and get-output's `metadata`. */
export function taskRunJson(task: TaskRun, ctx: ViewContext): Obj {
  const run = task.run;
  return {
    ...runHeader(run, ctx),
    ...taskJson(task, ctx),
    number_in_job: task.runId,
    original_attempt_run_id: task.runId,
    parent_run_id: run.runId,
  };
}

/** runs/get-output for a task run: logs and the error once the task run has ended. */
export function outputJson(task: TaskRun, ctx: ViewContext): Obj {
  const out: Obj = { metadata: taskRunJson(task, ctx) };
  const o = task.phase === "DONE" ? task.output : undefined;
  if (o) {
    out.logs = o.logs;
    out.logs_truncated = o.logsTruncated;
    if (o.error !== undefined) out.error = o.error;
    if (o.errorTrace !== undefined) out.error_trace = o.errorTrace;
  }
  return out;
}
