// dbxr job run: check, upload, submit, watch, collect, explain. The seed's job-runner guide as one command.

import { getClusterOrThrow } from "../clusters/start.ts";
import * as clusters from "../api/clusters.ts";
import type { Connection } from "../api/connect.ts";
import * as jobs from "../api/jobs.ts";
import type { SubmitTask } from "../api/jobs.ts";
import * as scim from "../api/scim.ts";
import * as unity from "../api/unity.ts";
import { ensureSchema } from "../unity/schemas.ts";
import type { Ctx } from "../ctx.ts";
import { DbxrError } from "../errors.ts";
import { uploadPaths } from "../workspace/upload.ts";
import { basename, relative, resolve } from "node:path";
import { collectOutputs, diagnoseRun, runJson, succeeded, type TaskOutput, watchRun } from "./watch.ts";
import { buildClusterSpec } from "./templates.ts";
import { checkFiles, type PreflightReport } from "./check.ts";
import JOB_WRAP_SOURCE from "../assets/job_wrap_py.ts";
import {
  checkServerlessFlags,
  dependencySpecs,
  environmentVersion,
  jobEnvironment,
  serverlessRefusal,
  serverlessTask,
} from "./serverless.ts";

export interface RunOptions {
  file: string;
  args: string[];
  clusterId?: string;
  newCluster: boolean;
  template?: string;
  clusterSpecFile?: string;
  instancePool?: string;
  include: string[];
  wrap: boolean;
  force: boolean;
  wait: boolean;
  cancelOnInterrupt: boolean;
  ensureSchema: boolean;
  env: string[];
  libraries: string[];
  /** Serverless compute: no cluster, a job environment with these pip requirements (and --libraries). */
  serverless?: boolean;
  dependencies?: string[];
  environmentVersion?: string;
  runName?: string;
  timeoutSeconds: number;
  projectDir: string;
}

export interface RunReport {
  status: string;
  run_id: number;
  run_page_url: string | null;
  [k: string]: unknown;
}

const WRAP_NAME = "_dbxr_wrap.py";
// Only __file__: a /Workspace import may point outside the uploaded tree, which the runner does not copy.
const FIXED_BY_WRAP: ReadonlySet<string> = new Set(["file-dunder"]);

export async function runJob(
  ctx: Ctx,
  conn: Connection,
  o: RunOptions,
): Promise<{ report: RunReport; exitCode: number }> {
  const { client } = conn;
  const local = resolve(o.file);
  let source: string | undefined;
  try {
    source = await ctx.readTextFile(local);
  } catch (e) {
    throw new DbxrError(
      "InvalidArgument",
      `Cannot read ${o.file} as a Python script: ${(e as Error).message}`,
      {
        hint: `dbxr job run <script.py> --include ${o.file}`,
      },
    );
  }
  if (source === undefined) {
    throw new DbxrError("FileNotFound", `Script not found: ${o.file}`, { hint: `ls ${o.file}` });
  }
  // Serverless: no cluster at all, a job environment instead (its dependencies are pip requirements).
  const serverless = Boolean(o.serverless);
  if (serverless) checkServerlessFlags(o.file, o);
  else if (o.dependencies?.length || o.environmentVersion !== undefined) {
    throw new DbxrError(
      "InvalidArgument",
      "--dependency and --environment-version shape a serverless environment; they need --serverless " +
        "(on a cluster, --libraries installs PyPI packages)",
      { hint: `dbxr job run ${o.file} --serverless --dependency SPEC` },
    );
  }
  const environment = serverless
    ? jobEnvironment(
      dependencySpecs(o.dependencies ?? [], o.libraries),
      environmentVersion(o.environmentVersion),
    )
    : undefined;
  const clusterSpecOverride = o.clusterSpecFile ? await readJson(ctx, o.clusterSpecFile) : undefined;

  // Compute: an existing cluster, or a new one from a template (plus --cluster-spec), or a pool.
  const existing = serverless || o.newCluster || o.instancePool
    ? undefined
    : o.clusterId ?? conn.config.cluster_id;
  if (existing && o.env.length) {
    throw new DbxrError("InvalidArgument", "--env sets a new cluster's environment; it needs --new-cluster", {
      hint: `dbxr job run ${o.file} --new-cluster --env ${o.env[0]}`,
    });
  }
  let newCluster: Record<string, unknown> | undefined;
  let sparkVersion: string | undefined;
  let existingAccessMode: string | undefined;
  if (!existing && !serverless) {
    const built = buildClusterSpec({
      template: o.template,
      override: clusterSpecOverride,
      nodeTypes: await clusters.listNodeTypes(client),
      instancePoolId: o.instancePool,
    });
    for (const w of built.warnings) ctx.out.warn(w);
    newCluster = built.spec;
    sparkVersion = String(newCluster.spark_version ?? "");
  } else if (existing) {
    const c = await getClusterOrThrow(client, existing);
    sparkVersion = c.spark_version;
    existingAccessMode = c.data_security_mode;
  }

  // 1. Local checks (the seed's pitfalls), unless --force.
  // The script first, then the Python files of the --include trees (agent.py is where ToolNode, %pip
  // lines and imports live); --libraries count as installed packages.
  const included = (await Promise.all(o.include.map((d) => pythonFiles(resolve(d))))).flat();
  const preflight: PreflightReport = await checkFiles(
    ctx,
    [local, ...included],
    environment ? { serverless: true, dependencies: environment.spec.dependencies ?? [] } : {
      clusterSpec: {
        ...(newCluster ?? clusterSpecOverride ?? {}),
        ...(o.libraries.length ? { libraries: o.libraries.map((p) => ({ pypi: { package: p } })) } : {}),
      },
      runtime: sparkVersion,
    },
  );
  // 2. Online checks: the spark version exists; the UC schema the script registers into exists.
  const online: string[] = [];
  if (newCluster) {
    const keys = (await clusters.sparkVersions(client)).map((v) => v.key);
    if (sparkVersion && !keys.includes(sparkVersion)) {
      online.push(
        `spark version ${sparkVersion} is not offered by this workspace (dbxr cluster spark-versions --filter cpu-ml)`,
      );
    }
  }
  const uc = preflight.uc_targets ?? [];
  if (
    existing && uc.length &&
    !["SINGLE_USER", "DATA_SECURITY_MODE_DEDICATED"].includes(existingAccessMode ?? "")
  ) {
    online.push(
      `cluster ${existing} has access mode ${
        existingAccessMode ?? "unset"
      }; registering to Unity Catalog needs ` +
        `SINGLE_USER (PERMISSION_DENIED otherwise): use --new-cluster (the default template has it)`,
    );
  }
  const missingSchemas: string[] = [];
  for (const target of uc) {
    const [catalog, schema] = target.split(".");
    const found = await unity.getSchemaOrUndefined(client, `${catalog}.${schema}`);
    if (found) continue;
    if (o.ensureSchema) missingSchemas.push(`${catalog}.${schema}`);
    else {
      online.push(
        `schema ${target} does not exist; the registration would fail (dbxr uc ensure-schema ${target})`,
      );
    }
  }

  const runName = o.runName ?? `dbxr ${basename(o.file)}`;
  const active = await jobs.list(client, { activeOnly: true }).catch(() => []);
  if (active.some((r) => r.run_name === runName)) {
    ctx.out.warn(`a run named "${runName}" is still active (dbxr job list --active)`);
  }
  if (o.wrap) {
    // The runner defines __file__ and imports from a local copy of the tree: those pitfalls do not apply.
    preflight.findings = preflight.findings.filter((f) => !FIXED_BY_WRAP.has(f.rule));
  }
  const errors = preflight.findings.filter((f) => f.severity === "error");
  if ((errors.length > 0 || online.length > 0) && !o.force) {
    throw new DbxrError(
      "PreflightFailed",
      `${errors.length + online.length} problem(s) would make this run fail; nothing was submitted.`,
      {
        hint: `dbxr job check ${o.file}`,
        details: { findings: preflight.findings, online },
      },
    );
  }
  for (const msg of online) ctx.out.warn(msg);
  // Only once the run will go ahead: a refused run must not leave a new schema behind.
  for (const name of missingSchemas) {
    const r = await ensureSchema(client, name);
    if (r.created) ctx.out.info(`created schema ${r.full_name} (--ensure-schema)`);
  }

  // 3. Upload the script (and --include trees) as workspace FILES, content-hashed.
  const me = await scim.me(client);
  const project = basename(resolve(o.projectDir)) || "project";
  const remoteRoot = `/Workspace/Users/${me.userName}/.dbxr/${project}`;
  const projectRoot = resolve(o.projectDir);
  const rel = (p: string) => {
    const r = relative(projectRoot, p);
    return r.startsWith("..") ? basename(p) : r;
  };
  const uploads = [{ local, remote: `${remoteRoot}/${rel(local)}` }];
  for (const dir of o.include) {
    uploads.push({ local: resolve(dir), remote: `${remoteRoot}/${rel(resolve(dir))}` });
  }
  const uploaded = await uploadPaths(ctx, client, uploads);
  const remoteScript = `${remoteRoot}/${rel(local)}`;

  let pythonFile = remoteScript;
  let parameters = o.args;
  if (o.wrap) {
    const wrapPath = `${remoteRoot}/${WRAP_NAME}`;
    await uploadPaths(ctx, client, [{ content: JOB_WRAP_SOURCE, remote: wrapPath }]);
    pythonFile = wrapPath;
    parameters = ["--dbxr-file", remoteScript, "--dbxr-root", remoteRoot, "--", ...o.args];
  }

  // 4. Submit: one task, idempotency token so that a retried submit never starts two runs.
  const task: SubmitTask = environment ? serverlessTask(pythonFile, parameters) : {
    task_key: "main",
    spark_python_task: { python_file: pythonFile, parameters, source: "WORKSPACE" },
    ...(existing ? { existing_cluster_id: existing } : { new_cluster: withEnv(newCluster!, o.env) }),
    ...(o.libraries.length ? { libraries: o.libraries.map((p) => ({ pypi: { package: p } })) } : {}),
  };
  // Detached from Ctrl-C: a run that the server created must get its id back, so that an interrupt
  // cancels it (the watch below sees the aborted signal at once) instead of leaving it running unseen.
  let runId: number;
  try {
    runId = await jobs.submit(client, {
      run_name: runName,
      idempotency_token: crypto.randomUUID(),
      tasks: [task],
      ...(environment ? { environments: [environment] } : {}),
      ...(o.timeoutSeconds ? { timeout_seconds: o.timeoutSeconds } : {}),
    }, { detached: true });
  } catch (e) {
    throw (environment && serverlessRefusal(e, o.file)) || e;
  }
  const submitted = await jobs.get(client, runId, { detached: true });
  ctx.out.info(`run ${runId} submitted: ${submitted.run_page_url ?? ""}`);
  const base = {
    run_id: runId,
    run_page_url: submitted.run_page_url ?? null,
    python_file: pythonFile,
    uploaded: uploaded.uploaded,
    skipped: uploaded.skipped,
    warnings: preflight.findings.filter((f) => f.severity !== "error"),
    ...(environment ? { compute: "serverless", environment } : {}),
  };
  if (!o.wait && !ctx.signal.aborted) return { report: { status: "submitted", ...base }, exitCode: 0 };
  const localModules = o.include.map((d) => basename(resolve(d)));
  return await finishRun(ctx, conn, runId, { ...o, sparkVersion, localModules }, base);
}

/** Watch to the end, fetch every task's output, explain a failure. Shared by run and watch. */
export async function finishRun(
  ctx: Ctx,
  conn: Connection,
  runId: number,
  o: {
    timeoutSeconds?: number;
    cancelOnInterrupt: boolean;
    projectDir: string;
    sparkVersion?: string;
    file?: string;
    localModules?: string[];
  },
  base: Record<string, unknown> = {},
): Promise<{ report: RunReport; exitCode: number }> {
  const w = await watchRun(ctx, conn.client, runId, {
    timeoutSeconds: o.timeoutSeconds && o.timeoutSeconds > 0 ? o.timeoutSeconds + 3600 : 24 * 3600,
    cancelOnInterrupt: o.cancelOnInterrupt,
  });
  if (w.kind === "timeout") {
    return {
      exitCode: 8,
      report: {
        ...base,
        ...runJson(w.run),
        status: "Running",
        run_id: runId,
        run_page_url: w.run.run_page_url ?? null,
        tip: { watch: `dbxr job watch ${runId}`, cancel: `dbxr job cancel ${runId}` },
      },
    };
  }
  const { tasks, outputs } = await collectOutputs(ctx, conn.client, w.run, o.projectDir);
  const report = { ...base, ...runJson(w.run), tasks };
  if (w.kind === "interrupted") {
    return {
      exitCode: 130,
      report: {
        ...report,
        status: "Cancelled",
        run_id: runId,
        run_page_url: w.run.run_page_url ?? null,
        message: w.cancelled ? "Interrupted: the run was cancelled." : "Interrupted: the run keeps going.",
        ...(w.cancelled ? {} : {
          status: "Running",
          tip: { watch: `dbxr job watch ${runId}`, cancel: `dbxr job cancel ${runId}` },
        }),
      },
    };
  }
  if (succeeded(w.run)) {
    return {
      exitCode: 0,
      report: { ...report, status: "SUCCESS", run_id: runId, run_page_url: w.run.run_page_url ?? null },
    };
  }
  const diagnosis = diagnoseRun(w.run, outputs, {
    sparkVersion: o.sparkVersion,
    file: o.file,
    localModules: o.localModules,
  });
  return {
    exitCode: 1,
    report: {
      ...report,
      status: "RunFailed",
      error: "RunFailed",
      run_id: runId,
      run_page_url: w.run.run_page_url ?? null,
      message: failureMessage(w.run.state?.result_state, tasks),
      hint: diagnosis[0]?.command ?? `dbxr job diagnose ${runId}`,
      diagnosis,
    },
  };
}

function failureMessage(resultState: string | undefined, tasks: TaskOutput[]): string {
  const failed = tasks.find((t) => t.error) ?? tasks.find((t) => t.result_state !== "SUCCESS");
  const what = failed?.error?.split("\n")[0] ?? failed?.state_message ?? "";
  return `Run ended ${resultState ?? "without a result"}${
    failed ? ` (task ${failed.task_key}: ${what})` : ""
  }.`;
}

const SKIP_DIRS = new Set([".git", "__pycache__", ".venv", "node_modules", "job_outputs", "repl_outputs"]);

/** The .py files under a directory (at most 200), for the checks; a missing dir is FileNotFound. */
async function pythonFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      if (out.length >= 200) return;
      if (e.isDirectory && !SKIP_DIRS.has(e.name)) await walk(`${d}/${e.name}`);
      else if (e.isFile && e.name.endsWith(".py")) out.push(`${d}/${e.name}`);
    }
  };
  try {
    await walk(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new DbxrError("FileNotFound", `--include ${dir}: no such directory`, { hint: `ls ${dir}` });
    }
    if (!(e instanceof Deno.errors.NotADirectory)) throw e;
  }
  return out.sort();
}

function withEnv(spec: Record<string, unknown>, env: string[]): Record<string, unknown> {
  if (env.length === 0) return spec;
  const vars: Record<string, string> = { ...(spec.spark_env_vars as Record<string, string> ?? {}) };
  for (const kv of env) {
    const i = kv.indexOf("=");
    if (i <= 0) {
      throw new DbxrError("InvalidArgument", `--env takes KEY=VALUE, got "${kv}"`, {
        hint: "dbxr job run --help",
      });
    }
    vars[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return { ...spec, spark_env_vars: vars };
}

async function readJson(ctx: Ctx, path: string): Promise<Record<string, unknown>> {
  const text = await ctx.readTextFile(path);
  if (text === undefined) {
    throw new DbxrError("FileNotFound", `Cluster spec not found: ${path}`, { hint: `ls ${path}` });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DbxrError(
      "InvalidArgument",
      `Cluster spec ${path} is not valid JSON: ${(e as Error).message}`,
      {
        hint: `cat ${path}`,
      },
    );
  }
}
