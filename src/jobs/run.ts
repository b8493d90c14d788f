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
import { DbxrError, isDbxrError } from "../errors.ts";
import { uploadPaths } from "../workspace/upload.ts";
import { basename, relative, resolve } from "node:path";
import {
  collectOutputs,
  diagnoseRun,
  runJson,
  runRuntime,
  succeeded,
  type TaskOutput,
  watchRun,
} from "./watch.ts";
import { buildClusterSpec } from "./templates.ts";
import { checkFiles, type Finding, type PreflightReport } from "./check.ts";
import { checkSparkVersionListed, onlineFinding, ucUseText } from "./preflight.ts";
import { shellQuote } from "../shell.ts";
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
  /** Warnings (local and online) stop the submit too. */
  strict?: boolean;
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
  /** Characters in each task's logs_preview (200 by default). */
  previewChars?: number;
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
  // "" would resolve to the working folder and upload all of it (its job_outputs/ included).
  if (o.include.some((d) => d.trim() === "")) {
    throw new DbxrError("InvalidArgument", "--include needs a folder, got an empty value.", {
      hint: "dbxr job run --help",
    });
  }
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
  const projectRoot = resolve(o.projectDir);
  const rel = (p: string) => {
    const r = relative(projectRoot, p);
    return r.startsWith("..") ? basename(p) : r;
  };
  const uploadedTrees = await Promise.all(o.include.map(async (d) => ({
    include: d,
    modules: await treeModules(resolve(d), rel(resolve(d))),
  })));
  const preflight: PreflightReport = await checkFiles(ctx, [local, ...included], {
    ...(environment ? { serverless: true, dependencies: environment.spec.dependencies ?? [] } : {
      clusterSpec: {
        ...(newCluster ?? clusterSpecOverride ?? {}),
        ...(o.libraries.length ? { libraries: o.libraries.map((p) => ({ pypi: { package: p } })) } : {}),
      },
      runtime: sparkVersion,
    }),
    uploaded: uploadedTrees,
  });
  if (o.wrap) {
    // The runner defines __file__ and imports from a local copy of the uploaded tree: those pitfalls do
    // not apply (a /Workspace path the script names itself may point outside the tree: still checked).
    preflight.findings = preflight.findings.filter((f) =>
      !FIXED_BY_WRAP.has(f.rule) && !(f.rule === "workspace-import" && f.data?.include !== undefined)
    );
  }

  // 2. Online checks: the spark version exists; the cluster's access mode suits Unity Catalog; the UC
  // schemas the script uses exist; no run of the same name is still active. Findings like the local ones.
  const online: Finding[] = [];
  const at = (file: string) => ({ file, line: 1, column: 1 });
  if (newCluster && sparkVersion) {
    const keys = (await clusters.sparkVersions(client)).map((v) => v.key);
    const f = checkSparkVersionListed(sparkVersion, keys, at("(new cluster)"));
    if (f) online.push(f);
  }
  const uc = preflight.uc_targets ?? [];
  const touchesUc = uc.length > 0 || preflight.uc_objects.length > 0;
  if (
    existing && touchesUc &&
    !["SINGLE_USER", "DATA_SECURITY_MODE_DEDICATED"].includes(existingAccessMode ?? "")
  ) {
    const what = preflight.uc_objects[0];
    online.push(onlineFinding("uc-access-mode", {
      ...at(`(cluster ${existing})`),
      message: `cluster ${existing} has access mode ${existingAccessMode ?? "unset"}; Unity Catalog ` +
        `(${what ? ucUseText(what) : uc.join(", ")}) needs SINGLE_USER (PERMISSION_DENIED otherwise)`,
      fix: "Run on a new job cluster (--new-cluster: every built-in template is SINGLE_USER), or on an " +
        "existing cluster in Dedicated (single user) access mode.",
      command: `dbxr job run ${shellQuote(o.file)} --new-cluster`,
      data: { cluster_id: existing, data_security_mode: existingAccessMode ?? null },
    }, o.file));
  }
  const missingSchemas: string[] = [];
  for (const target of uc) {
    const [catalog, schema] = target.split(".");
    // A schema the user may use but not describe cannot be judged: say nothing rather than refuse.
    const found = await unity.getSchemaOrUndefined(client, `${catalog}.${schema}`).catch((e) => {
      if (isDbxrError(e, "PermissionDenied")) return true;
      throw e;
    });
    if (found) continue;
    if (o.ensureSchema) missingSchemas.push(`${catalog}.${schema}`);
    else {
      online.push(onlineFinding("uc-schema-missing", {
        ...at(`(schema ${target})`),
        message:
          `schema ${target} does not exist; the script's use of it would fail (RESOURCE_DOES_NOT_EXIST)`,
        command: `dbxr job run ${shellQuote(o.file)} --ensure-schema`,
        data: { schema: target },
      }, o.file));
    }
  }

  const runName = o.runName ?? `dbxr ${basename(o.file)}`;
  const active = (await jobs.list(client, { activeOnly: true }).catch(() => []))
    .filter((r) => r.run_name === runName);
  if (active.length > 0) {
    const ids = active.map((r) => r.run_id);
    online.push(onlineFinding("active-run", {
      ...at(`(run ${ids[0]})`),
      message: `a run named "${runName}" is still active: run ${ids.join(", ")} ` +
        `(${active[0].state?.life_cycle_state ?? "RUNNING"}); cancel it first with dbxr job cancel ${ids[0]}`,
      command: `dbxr job cancel ${ids[0]}`,
      data: { run_id: ids[0], run_ids: ids },
    }, o.file));
  }

  const all = [...preflight.findings, ...online];
  const blocking = all.filter((f) =>
    (f.severity === "error" && !o.force) || (f.severity === "warning" && o.strict)
  );
  if (blocking.length > 0) {
    const errors = blocking.filter((f) => f.severity === "error").length;
    const warnings = blocking.length - errors;
    throw new DbxrError(
      "PreflightFailed",
      `${blocking.length} problem(s) would make this run fail` +
        (warnings > 0 ? ` (${warnings} warning(s), stopping the run with --strict)` : "") +
        "; nothing was submitted.",
      {
        hint: blocking.find((f) => f.command)?.command ?? `dbxr job check ${o.file}`,
        details: {
          findings: preflight.findings,
          online,
          warnings: all.filter((f) => !blocking.includes(f) && f.severity !== "info"),
        },
      },
    );
  }
  // What goes ahead anyway (warnings, and errors under --force) is in the answer's `warnings`, and on
  // stderr for people watching.
  const letThrough = all;
  for (const f of online) ctx.out.warn(f.message);
  // Only once the run will go ahead: a refused run must not leave a new schema behind.
  for (const name of missingSchemas) {
    const r = await ensureSchema(client, name);
    if (r.created) ctx.out.info(`created schema ${r.full_name} (--ensure-schema)`);
  }

  // 3. Upload the script (and --include trees) as workspace FILES, content-hashed.
  const me = await scim.me(client);
  const project = basename(resolve(o.projectDir)) || "project";
  const remoteRoot = `/Workspace/Users/${me.userName}/.dbxr/${project}`;
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
    warnings: letThrough,
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
    /** Characters in each task's logs_preview. */
    previewChars?: number;
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
  const { tasks, outputs } = await collectOutputs(ctx, conn.client, w.run, o.projectDir, o.previewChars);
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
    sparkVersion: o.sparkVersion ?? await runRuntime(conn.client, w.run),
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

/**
 * The top-level module names an uploaded tree offers: the tree itself as a package (by its name and by
 * the first folder of its path in the project), and what it holds, for scripts that put it on sys.path.
 */
async function treeModules(path: string, relPath: string): Promise<string[]> {
  const stem = (n: string) => n.replace(/\.py$/, "");
  const names = new Set([stem(basename(path)), stem(relPath.split("/")[0])]);
  try {
    for await (const e of Deno.readDir(path)) {
      if (e.isDirectory && !SKIP_DIRS.has(e.name) && !e.name.startsWith(".")) names.add(e.name);
      else if (e.isFile && e.name.endsWith(".py") && e.name !== "__init__.py") names.add(stem(e.name));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotADirectory || e instanceof Deno.errors.NotFound)) throw e;
  }
  return [...names].filter((n) => /^[A-Za-z_]\w*$/.test(n));
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
