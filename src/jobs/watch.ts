// Watching a run to its end and collecting every task's output into job_outputs/<run_id>/<task>.log.

import * as clusters from "../api/clusters.ts";
import * as jobs from "../api/jobs.ts";
import type { Run, RunOutput } from "../api/jobs.ts";
import type { ApiClient } from "../api/http.ts";
import type { Ctx } from "../ctx.ts";
import { isDbxrError } from "../errors.ts";
import { poll, slowSchedule } from "../poll.ts";
import { writeFileKeepingOthers } from "../session/atomic.ts";
import { stripAnsi, tailPreview } from "../session/outputs.ts";
import { diagnose, type Diagnosis } from "./diagnose.ts";
import { isServerlessRun, serverlessDiagnoses } from "./serverless.ts";
import { runState } from "../table.ts";

/** One line that says where a run is: `RUNNING (task main: RUNNING)`, with the state message. */
export function runProgress(r: Run): string {
  const s = r.state ?? {};
  const tasks = (r.tasks ?? []).map((t) =>
    `${t.task_key}: ${t.state?.result_state ?? t.state?.life_cycle_state ?? "?"}`
  );
  return (runState(s.life_cycle_state, s.result_state) || "?") +
    (tasks.length ? ` (${tasks.join(", ")})` : "") + (s.state_message ? ` - ${s.state_message}` : "");
}

export function isTerminal(r: Run): boolean {
  return jobs.TERMINAL_LIFE_CYCLE.has(r.state?.life_cycle_state ?? "");
}

/**
 * Success is judged from result_state, never from life_cycle_state alone (docs/databricks-behaviour.md §4.2).
 */
export function succeeded(r: Run): boolean {
  return r.state?.result_state === "SUCCESS";
}

export interface WatchOptions {
  timeoutSeconds: number;
  cancelOnInterrupt: boolean;
}

export type WatchOutcome =
  | { kind: "done"; run: Run }
  | { kind: "timeout"; run: Run }
  | { kind: "interrupted"; run: Run; cancelled: boolean };

/**
 * Polls runs/get until the run is terminal. State changes go to stderr always (a CI log should show
 * them); Ctrl-C or SIGTERM cancels the run unless told not to, so no paid run is left behind.
 */
export async function watchRun(
  ctx: Ctx,
  client: ApiClient,
  runId: number,
  o: WatchOptions,
): Promise<WatchOutcome> {
  let last: Run | undefined;
  const progress = ctx.out.wait(`run ${runId}`, { always: true });
  try {
    const outcome = await poll<Run>(ctx, async () => {
      const r = await jobs.get(client, runId);
      last = r;
      return isTerminal(r) ? { done: true, value: r } : { done: false, progress: runProgress(r) };
    }, {
      timeoutMs: o.timeoutSeconds * 1000,
      schedule: slowSchedule,
      signal: ctx.signal,
      onPoll: progress.step,
    });
    progress.end(runProgress(outcome.done ? outcome.value : last!), outcome.elapsedMs);
    return outcome.done ? { kind: "done", run: outcome.value } : { kind: "timeout", run: last! };
  } catch (e) {
    if (!ctx.signal.aborted) throw e;
    if (!o.cancelOnInterrupt) {
      ctx.out.info(`run ${runId}: interrupted; the run keeps going (--no-cancel-on-interrupt)`);
      return { kind: "interrupted", run: last ?? { run_id: runId }, cancelled: false };
    }
    ctx.out.info(`run ${runId}: interrupted; cancelling the run so that it does not keep running`);
    await jobs.cancel(client, runId, { detached: true });
    // Bounded: report what we know if the cancel takes longer.
    const settled = await poll<Run>(ctx, async () => {
      const r = await jobs.get(client, runId, { detached: true });
      last = r;
      return isTerminal(r) ? { done: true, value: r } : { done: false };
    }, { timeoutMs: 30_000, schedule: () => 1_000 });
    return { kind: "interrupted", run: settled.done ? settled.value : last!, cancelled: true };
  }
}

export interface TaskOutput {
  task_key: string;
  run_id: number;
  result_state: string | null;
  state_message: string;
  log_file: string | null;
  logs_bytes: number;
  /** The last characters of the log (`--preview`, 200 by default); null without a log. */
  logs_preview: string | null;
  logs_truncated: boolean;
  error: string | null;
  error_trace_file: string | null;
}

/** get-output for every task (with its TASK run id) into job_outputs/<run_id>/. */
export async function collectOutputs(
  ctx: Ctx,
  client: ApiClient,
  run: Run,
  projectDir: string,
  previewChars = 200,
): Promise<{ tasks: TaskOutput[]; outputs: Map<string, RunOutput> }> {
  const dir = `job_outputs/${run.run_id}`;
  const tasks: TaskOutput[] = [];
  const outputs = new Map<string, RunOutput>();
  for (const t of run.tasks ?? []) {
    let out: RunOutput = {};
    try {
      out = await jobs.getOutput(client, t.run_id, { detached: true });
    } catch (e) {
      // A task that never started (setup failed, skipped) has no output to fetch.
      if (!isDbxrError(e) || e.code === "AuthError" || e.code === "NetworkError") throw e;
      ctx.out.warn(`no output for task ${t.task_key} (run ${t.run_id}): ${e.message}`);
    }
    outputs.set(t.task_key, out);
    const safeKey = t.task_key.replace(/[^A-Za-z0-9_.-]+/g, "_");
    let logFile: string | null = null;
    let logsBytes = 0;
    if (out.logs !== undefined) {
      const bytes = new TextEncoder().encode(out.logs);
      logsBytes = bytes.length;
      await Deno.mkdir(`${projectDir}/${dir}`, { recursive: true });
      logFile = await writeFileKeepingOthers(projectDir, `${dir}/${safeKey}.log`, bytes);
    }
    let traceFile: string | null = null;
    if (out.error_trace) {
      await Deno.mkdir(`${projectDir}/${dir}`, { recursive: true });
      traceFile = await writeFileKeepingOthers(
        projectDir,
        `${dir}/${safeKey}.error_trace.txt`,
        stripAnsi(out.error_trace),
      );
    }
    tasks.push({
      task_key: t.task_key,
      run_id: t.run_id,
      result_state: t.state?.result_state ?? null,
      state_message: t.state?.state_message ?? "",
      log_file: logFile,
      logs_bytes: logsBytes,
      logs_preview: out.logs !== undefined ? tailPreview(out.logs, previewChars) : null,
      logs_truncated: Boolean(out.logs_truncated),
      error: out.error ?? null,
      error_trace_file: traceFile,
    });
  }
  return { tasks, outputs };
}

export function diagnoseRun(
  run: Run,
  outputs: Map<string, RunOutput>,
  extra: { sparkVersion?: string; file?: string; localModules?: string[] } = {},
): Diagnosis[] {
  // Without the local file name (job diagnose), name the script that the task ran.
  const ranFile = run.tasks?.[0]?.spark_python_task?.python_file?.split("/").pop();
  const file = extra.file ?? ranFile;
  const found = diagnose({
    runId: run.run_id,
    ...(file ? { file } : {}),
    ...(extra.localModules ? { localModules: extra.localModules } : {}),
    lifeCycleState: run.state?.life_cycle_state,
    resultState: run.state?.result_state,
    stateMessage: run.state?.state_message,
    terminationCode: run.status?.termination_details?.code,
    // job diagnose has no local flag: a new job cluster's spec in the run says which runtime it used.
    sparkVersion: extra.sparkVersion ?? runSparkVersion(run),
    tasks: (run.tasks ?? []).map((t) => {
      const o = outputs.get(t.task_key) ?? {};
      return {
        taskKey: t.task_key,
        resultState: t.state?.result_state,
        stateMessage: t.state?.state_message,
        error: o.error,
        errorTrace: o.error_trace,
        logs: o.logs,
      };
    }),
  });
  return isServerlessRun(run.tasks) ? serverlessDiagnoses(found) : found;
}

/**
 * The runtime a run used, for the diagnoses that depend on it: a new cluster's spark_version in the run,
 * else the existing cluster's (looked up; undefined when it cannot be).
 */
export async function runRuntime(client: ApiClient, run: Run): Promise<string | undefined> {
  const own = runSparkVersion(run);
  if (own) return own;
  const id = run.tasks?.map((t) => t.existing_cluster_id ?? t.cluster_instance?.cluster_id).find(Boolean);
  if (!id) return undefined;
  try {
    return (await clusters.get(client, id)).spark_version || undefined;
  } catch (e) {
    if (isDbxrError(e) && (e.code === "AuthError" || e.code === "NetworkError")) throw e;
    return undefined;
  }
}

function runSparkVersion(run: Run): string | undefined {
  const v = run.tasks?.map((t) => t.new_cluster?.spark_version).find((x) => typeof x === "string");
  return typeof v === "string" ? v : undefined;
}

/** The JSON that job run/watch/output/status print for a run. */
export function runJson(run: Run) {
  return {
    run_id: run.run_id,
    run_name: run.run_name ?? null,
    run_page_url: run.run_page_url ?? null,
    life_cycle_state: run.state?.life_cycle_state ?? null,
    result_state: run.state?.result_state ?? null,
    state_message: run.state?.state_message ?? "",
    termination_code: run.status?.termination_details?.code ?? null,
    start_time: run.start_time ?? null,
    end_time: run.end_time ?? null,
  };
}
