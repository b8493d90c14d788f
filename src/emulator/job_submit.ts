// The body of jobs/runs/submit (docs/databricks-behaviour.md §4.1), checked the way the Jobs service checks
// it before a run exists: structure, task keys, dependencies, compute, python_file forms. What Databricks
// only finds out while preparing the cluster (an unknown spark_version or node type) is left to the run
// (job_runs.ts), which then fails at setup as a real run does.

import type { ClusterStore } from "./cluster_model.ts";
import { invalidParameter } from "./errors.ts";
import { canonicalPath } from "./workspace_store.ts";

export type Compute =
  | { kind: "existing"; clusterId: string }
  | { kind: "new"; spec: Record<string, unknown> }
  | { kind: "serverless"; environmentKey: string; environmentVersion: string; dependencies: string[] };

/** One entry of the submit body's `environments` (a JobEnvironment), as the task uses it. */
export interface EnvironmentSpec {
  /** `environment_version`, or the deprecated `client`. */
  version: string;
  /** pip requirement lines, installed into the task's environment before the script runs. */
  dependencies: string[];
}

export type PythonFile =
  | { kind: "workspace"; given: string; /** canonical, without /Workspace */ path: string }
  | { kind: "uri"; given: string }
  | { kind: "git"; given: string };

export interface TaskSpec {
  taskKey: string;
  pythonFile: PythonFile;
  parameters: string[];
  compute: Compute;
  dependsOn: string[];
  timeoutSeconds: number;
  /** The task as given (plus defaults), echoed by runs/get. */
  settings: Record<string, unknown>;
}

export interface SubmitSpec {
  runName: string;
  idempotencyToken?: string;
  timeoutSeconds: number;
  queueEnabled: boolean;
  tasks: TaskSpec[];
  /** `environments` as given (the emulator's control API shows them; runs/get does not echo them). */
  environments: Obj[];
}

/** Task types the Jobs API knows; the emulator runs spark_python_task only. */
const OTHER_TASK_TYPES = [
  "notebook_task",
  "spark_jar_task",
  "spark_submit_task",
  "python_wheel_task",
  "pipeline_task",
  "sql_task",
  "dbt_task",
  "run_job_task",
  "condition_task",
  "for_each_task",
  "clean_rooms_notebook_task",
  "dashboard_task",
  "power_bi_task",
  "gen_ai_compute_task",
];
const TASK_KEY = /^[\w-]{1,100}$/;
const MAX_IDEMPOTENCY_TOKEN = 64;
/**
 * A legacy single-task body has no task key; the one Databricks assigns is not known
 * (docs/databricks-behaviour.md §4.1).
 */
export const LEGACY_TASK_KEY = "main";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Environment that a serverless task without `environments` is refused with (databricks-sdk-py#1228). */
export const serverlessEnvironmentRequired = (taskKey: string) =>
  invalidParameter(
    `An environment is required for serverless task ${taskKey}. Please define one using \`environments\` ` +
      "and `environment_key`. For more details, please refer to the API documentation at " +
      "https://docs.databricks.com",
  );

/**
 * A serverless task in a workspace where serverless compute is switched off (the control API's switch). The
 * text is the one seen for a serverless SQL warehouse in such a workspace; the Jobs service's own words are
 * not known (docs/databricks-behaviour.md §4.5).
 */
export const serverlessDisabled = () =>
  invalidParameter("Serverless compute is not enabled for this workspace.");

export function parseSubmit(body: Obj, clusters: ClusterStore): SubmitSpec {
  const legacy = body.spark_python_task !== undefined || OTHER_TASK_TYPES.some((t) => body[t] !== undefined);
  let rawTasks: unknown[];
  if (legacy) {
    if (body.tasks !== undefined) {
      throw invalidParameter("A one-time run defines either tasks or a single top-level task, not both.");
    }
    rawTasks = [legacyTask(body)];
  } else {
    if (!Array.isArray(body.tasks) || body.tasks.length === 0) {
      throw invalidParameter("A one-time run needs at least one task in tasks.");
    }
    rawTasks = body.tasks;
  }
  const environments = environmentSpecs(body.environments);
  const gitSource = isObj(body.git_source);
  const tasks = rawTasks.map((t, i) => parseTask(t, i, { legacy, environments, gitSource, clusters }));
  checkGraph(tasks);

  const token = body.idempotency_token;
  if (token !== undefined && token !== null && typeof token !== "string") {
    throw invalidParameter("idempotency_token must be a string");
  }
  if (typeof token === "string" && token.length > MAX_IDEMPOTENCY_TOKEN) {
    throw invalidParameter(`idempotency_token must be at most ${MAX_IDEMPOTENCY_TOKEN} characters long`);
  }
  const runName = body.run_name ?? "Untitled";
  if (typeof runName !== "string") throw invalidParameter("run_name must be a string");
  let queueEnabled = false;
  if (body.queue !== undefined) {
    if (!isObj(body.queue) || typeof body.queue.enabled !== "boolean") {
      throw invalidParameter("Missing required field: queue.enabled");
    }
    queueEnabled = body.queue.enabled;
  }
  return {
    runName: runName === "" ? "Untitled" : runName,
    ...(typeof token === "string" && token !== "" ? { idempotencyToken: token } : {}),
    timeoutSeconds: seconds(body.timeout_seconds, "timeout_seconds"),
    queueEnabled,
    tasks,
    environments: Array.isArray(body.environments) ? structuredClone(body.environments as Obj[]) : [],
  };
}

/** The 2.0 single-task body: task type and compute at the top level. */
function legacyTask(body: Obj): Obj {
  const task: Obj = { task_key: LEGACY_TASK_KEY };
  for (const k of ["spark_python_task", ...OTHER_TASK_TYPES, "libraries", "timeout_seconds"]) {
    if (body[k] !== undefined) task[k] = body[k];
  }
  if (body.existing_cluster_id === undefined && body.new_cluster === undefined) {
    // The answer seen for a single-task body without compute (Azure/azure-databricks-client#105).
    throw invalidParameter("Either new_cluster or existing_cluster_id must be specified.");
  }
  if (body.existing_cluster_id !== undefined) task.existing_cluster_id = body.existing_cluster_id;
  if (body.new_cluster !== undefined) task.new_cluster = body.new_cluster;
  return task;
}

function environmentSpecs(raw: unknown): Map<string, EnvironmentSpec> {
  const out = new Map<string, EnvironmentSpec>();
  if (raw === undefined) return out;
  if (!Array.isArray(raw)) throw invalidParameter("environments must be a list");
  for (const env of raw) {
    if (!isObj(env) || typeof env.environment_key !== "string" || env.environment_key === "") {
      throw invalidParameter("Missing required field: environments.environment_key");
    }
    if (out.has(env.environment_key)) {
      // The SDK: "The key of an environment. It has to be unique within a job." The text is ours.
      throw invalidParameter(`Environment key ${env.environment_key} is used by more than one environment.`);
    }
    const spec = isObj(env.spec) ? env.spec : {};
    const deps = spec.dependencies ?? [];
    if (!Array.isArray(deps) || deps.some((d) => typeof d !== "string" || d.trim() === "")) {
      throw invalidParameter(
        `environments.spec.dependencies of ${env.environment_key} must be a list of pip requirement strings`,
      );
    }
    // `client` is the deprecated name of environment_version.
    out.set(env.environment_key, {
      version: String(spec.environment_version ?? spec.client ?? "1"),
      dependencies: (deps as string[]).map((d) => d.trim()),
    });
  }
  return out;
}

interface TaskContext {
  legacy: boolean;
  environments: Map<string, EnvironmentSpec>;
  gitSource: boolean;
  clusters: ClusterStore;
}

function parseTask(raw: unknown, index: number, ctx: TaskContext): TaskSpec {
  if (!isObj(raw)) throw invalidParameter(`tasks[${index}] must be an object`);
  const key = raw.task_key;
  if (typeof key !== "string" || key === "") throw invalidParameter("Missing required field: task_key");
  if (!TASK_KEY.test(key)) {
    throw invalidParameter(
      `Invalid task_key '${key}': only letters, digits, '-' and '_' are allowed, at most 100 characters.`,
    );
  }
  for (const t of OTHER_TASK_TYPES) {
    if (raw[t] !== undefined) {
      throw invalidParameter(
        `Task ${key}: ${t} is not supported by the dbxr emulator (it runs spark_python_task only).`,
      );
    }
  }
  const spt = raw.spark_python_task;
  if (!isObj(spt)) {
    throw invalidParameter(`Task ${key} has no task definition: the dbxr emulator runs spark_python_task.`);
  }
  const settings: Obj = structuredClone(raw);
  const pythonFile = parsePythonFile(spt, key, ctx.gitSource);
  (settings.spark_python_task as Obj).source ??= pythonFile.kind === "git" ? "GIT" : "WORKSPACE";
  settings.run_if ??= "ALL_SUCCESS";
  return {
    taskKey: key,
    pythonFile,
    parameters: parameters(spt.parameters, key),
    compute: parseCompute(raw, key, ctx),
    dependsOn: dependsOn(raw.depends_on, key),
    timeoutSeconds: seconds(raw.timeout_seconds, "timeout_seconds"),
    settings,
  };
}

function parsePythonFile(spt: Obj, key: string, gitSource: boolean): PythonFile {
  const file = spt.python_file;
  if (typeof file !== "string" || file === "") {
    throw invalidParameter("Missing required field: spark_python_task.python_file");
  }
  const source = spt.source ?? (gitSource ? "GIT" : "WORKSPACE");
  if (source !== "WORKSPACE" && source !== "GIT") {
    throw invalidParameter(`Invalid source ${JSON.stringify(source)}: expected WORKSPACE or GIT`);
  }
  if (source === "GIT") {
    if (!gitSource) throw invalidParameter(`Task ${key}: source GIT needs git_source.`);
    return { kind: "git", given: file };
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(file)) return { kind: "uri", given: file };
  if (!file.startsWith("/")) {
    // The SDK's words for the rule (SparkPythonTask.python_file); the service's exact text is not known.
    throw invalidParameter(
      `Invalid python_file ${file}: for python files stored in the Databricks workspace, the path must ` +
        "be absolute and begin with `/`. For files stored in a remote repository, the path must be relative " +
        "and source must be GIT.",
    );
  }
  const path = canonicalPath(file);
  if (path === undefined) throw invalidParameter(`Invalid python_file ${file}`);
  return { kind: "workspace", given: file, path };
}

function parameters(raw: unknown, key: string): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.some((p) => typeof p !== "string")) {
    throw invalidParameter(`Task ${key}: spark_python_task.parameters must be a list of strings`);
  }
  return raw as string[];
}

function parseCompute(raw: Obj, key: string, ctx: TaskContext): Compute {
  if (raw.job_cluster_key !== undefined) {
    // SubmitTask has no job_cluster_key: one-time runs carry no job_clusters to point at.
    throw invalidParameter(
      `Task ${key}: job_cluster_key is not supported by runs/submit; use new_cluster or existing_cluster_id.`,
    );
  }
  const existing = raw.existing_cluster_id;
  const fresh = raw.new_cluster;
  if (existing !== undefined && fresh !== undefined) {
    throw invalidParameter(`Task ${key}: only one of existing_cluster_id and new_cluster may be given.`);
  }
  if (existing !== undefined) {
    if (typeof existing !== "string" || existing === "") {
      throw invalidParameter("existing_cluster_id must be a non-empty string");
    }
    if (!ctx.clusters.find(existing)) throw invalidParameter(`Cluster ${existing} does not exist`);
    return { kind: "existing", clusterId: existing };
  }
  if (fresh !== undefined) {
    if (!isObj(fresh)) throw invalidParameter("new_cluster must be an object");
    // Required fields are checked with the run; their values only when the cluster is created (the run then
    // fails at setup). The message is the one seen for jobs/create (databricks/databricks-cli#663).
    const missing = (f: string) =>
      invalidParameter(
        `Cluster validation error: Missing required field: settings.cluster_spec.new_cluster.${f}`,
      );
    if (fresh.num_workers === undefined && fresh.autoscale === undefined) throw missing("size");
    if (fresh.spark_version === undefined) throw missing("spark_version");
    if (fresh.node_type_id === undefined && fresh.instance_pool_id === undefined) {
      throw missing("node_type_id");
    }
    return { kind: "new", spec: structuredClone(fresh) };
  }
  if (ctx.legacy) throw invalidParameter("Either new_cluster or existing_cluster_id must be specified.");
  const envKey = raw.environment_key;
  if (typeof envKey !== "string" || envKey === "") throw serverlessEnvironmentRequired(key);
  const env = ctx.environments.get(envKey);
  if (env === undefined) {
    throw invalidParameter(
      `Task ${key} refers to environment_key ${envKey}, which environments does not define.`,
    );
  }
  return {
    kind: "serverless",
    environmentKey: envKey,
    environmentVersion: env.version,
    dependencies: env.dependencies,
  };
}

function dependsOn(raw: unknown, key: string): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidParameter(`Task ${key}: depends_on must be a list`);
  return raw.map((d) => {
    if (!isObj(d) || typeof d.task_key !== "string") {
      throw invalidParameter(`Task ${key}: Missing required field: depends_on.task_key`);
    }
    return d.task_key;
  });
}

function checkGraph(tasks: TaskSpec[]): void {
  const keys = new Set<string>();
  for (const t of tasks) {
    if (keys.has(t.taskKey)) throw invalidParameter(`Task key ${t.taskKey} is used by more than one task.`);
    keys.add(t.taskKey);
  }
  for (const t of tasks) {
    for (const d of t.dependsOn) {
      if (!keys.has(d)) {
        throw invalidParameter(`Task ${t.taskKey} depends on ${d}, which is not a task of this run.`);
      }
      if (d === t.taskKey) throw invalidParameter(`Task ${t.taskKey} depends on itself.`);
    }
  }
  // Kahn's algorithm: what is left over sits on a cycle.
  const indegree = new Map(tasks.map((t) => [t.taskKey, t.dependsOn.length]));
  const ready = tasks.filter((t) => t.dependsOn.length === 0).map((t) => t.taskKey);
  let seen = 0;
  while (ready.length) {
    const k = ready.pop()!;
    seen++;
    for (const t of tasks) {
      if (!t.dependsOn.includes(k)) continue;
      const n = indegree.get(t.taskKey)! - 1;
      indegree.set(t.taskKey, n);
      if (n === 0) ready.push(t.taskKey);
    }
  }
  if (seen < tasks.length) throw invalidParameter("The task dependencies of this run contain a cycle.");
}

function seconds(raw: unknown, name: string): number {
  if (raw === undefined || raw === null) return 0;
  if (typeof raw !== "number" || !Number.isInteger(raw) || raw < 0) {
    throw invalidParameter(`${name} must be a non-negative integer`);
  }
  return raw;
}
