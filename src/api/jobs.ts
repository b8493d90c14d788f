// Jobs API 2.2: one-time runs (docs/databricks-behaviour.md §4). Outputs are per TASK run id: the parent run
// id answers 400, so callers iterate runs/get → tasks[].run_id.

import { type ApiClient, listField, unexpectedAnswer } from "./http.ts";

export interface RunState {
  life_cycle_state?: string;
  result_state?: string;
  state_message?: string;
  user_cancelled_or_timedout?: boolean;
  queue_reason?: string;
}

export interface RunStatus {
  state?: string;
  termination_details?: { code?: string; type?: string; message?: string };
  queue_details?: { code?: string; message?: string };
}

export interface TaskRun {
  run_id: number;
  task_key: string;
  state?: RunState;
  status?: RunStatus;
  start_time?: number;
  end_time?: number;
  attempt_number?: number;
  run_page_url?: string;
  existing_cluster_id?: string;
  new_cluster?: Record<string, unknown>;
  cluster_instance?: { cluster_id?: string; spark_context_id?: string };
  /** Serverless tasks: the key of the run's environment they use (and no cluster_instance). */
  environment_key?: string;
  spark_python_task?: { python_file: string; parameters?: string[]; source?: string };
}

export interface Run {
  run_id: number;
  job_id?: number;
  run_name?: string;
  run_type?: string;
  run_page_url?: string;
  state?: RunState;
  status?: RunStatus;
  start_time?: number;
  end_time?: number;
  setup_duration?: number;
  execution_duration?: number;
  cleanup_duration?: number;
  run_duration?: number;
  tasks?: TaskRun[];
}

export interface RunOutput {
  metadata?: TaskRun;
  logs?: string;
  logs_truncated?: boolean;
  error?: string;
  error_trace?: string;
  info?: string;
}

export interface SubmitTask {
  task_key: string;
  spark_python_task: { python_file: string; parameters?: string[]; source: "WORKSPACE" | "GIT" };
  existing_cluster_id?: string;
  new_cluster?: Record<string, unknown>;
  /** Serverless: no cluster; the task runs in this environment of the request's `environments`. */
  environment_key?: string;
  libraries?: Array<Record<string, unknown>>;
  timeout_seconds?: number;
}

/** A JobEnvironment: `spec` is compute.Environment (docs/databricks-behaviour.md §4.5). */
export interface JobEnvironment {
  environment_key: string;
  spec: {
    /** A whole number as a string; `client` is its deprecated name. */
    environment_version?: string;
    client?: string;
    /** pip requirement lines. */
    dependencies?: string[];
  };
}

export interface SubmitRequest {
  run_name: string;
  idempotency_token: string;
  tasks: SubmitTask[];
  environments?: JobEnvironment[];
  timeout_seconds?: number;
}

export const TERMINAL_LIFE_CYCLE: ReadonlySet<string> = new Set(["TERMINATED", "SKIPPED", "INTERNAL_ERROR"]);

export async function submit(
  client: ApiClient,
  req: SubmitRequest,
  opts: { detached?: boolean } = {},
): Promise<number> {
  // The idempotency token makes a repeated submit return the same run: safe to retry after a lost answer.
  const r = await client.post<{ run_id: unknown }>("/api/2.2/jobs/runs/submit", req, {
    idempotent: true,
    ...opts,
  });
  if (typeof r.run_id === "number" && Number.isSafeInteger(r.run_id)) return r.run_id;
  if (typeof r.run_id === "string" && /^\d{1,16}$/.test(r.run_id)) return Number(r.run_id);
  throw unexpectedAnswer("POST", "/api/2.2/jobs/runs/submit", 200, "a numeric `run_id`", r.run_id);
}

export function get(client: ApiClient, runId: number, opts: { detached?: boolean } = {}): Promise<Run> {
  return client.get("/api/2.2/jobs/runs/get", { run_id: runId }, opts);
}

export function getOutput(
  client: ApiClient,
  taskRunId: number,
  opts: { detached?: boolean } = {},
): Promise<RunOutput> {
  return client.get("/api/2.2/jobs/runs/get-output", { run_id: taskRunId }, opts);
}

export async function cancel(
  client: ApiClient,
  runId: number,
  opts: { detached?: boolean } = {},
): Promise<void> {
  await client.post("/api/2.2/jobs/runs/cancel", { run_id: runId }, { idempotent: true, ...opts });
}

export async function list(
  client: ApiClient,
  opts: { activeOnly?: boolean; limit?: number } = {},
): Promise<Run[]> {
  const r = await client.get<{ runs?: unknown }>("/api/2.2/jobs/runs/list", {
    ...(opts.activeOnly ? { active_only: true } : {}),
    run_type: "SUBMIT_RUN",
    limit: opts.limit ?? 25,
  });
  return listField<Run>(r.runs, "GET", "/api/2.2/jobs/runs/list", "runs");
}
