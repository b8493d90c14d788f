// `job run|status|watch|output|cancel|diagnose|list`: thin commands over src/jobs.

import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { connect } from "../api/connect.ts";
import type { Ctx } from "../ctx.ts";
import { DbxrError } from "../errors.ts";
import { examples, globals } from "./root.ts";
import { previewOption, runTimeoutSeconds } from "./parse.ts";
import { runListText, runReportText } from "../jobs/text.ts";

const jobsLib = async () => ({
  ...(await import("../jobs/run.ts")),
  ...(await import("../jobs/watch.ts")),
  api: await import("../api/jobs.ts"),
});

function runId(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new DbxrError("InvalidArgument", `RUN_ID must be a positive whole number, got "${value}"`, {
      hint: "dbxr job list",
    });
  }
  return n;
}

const list = (
  v: string,
  prev: string[] = [],
) => [...prev, ...v.split(",").map((s) => s.trim()).filter(Boolean)];
const repeat = (v: string, prev: string[] = []) => [...prev, v];

function limit25(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 25) {
    throw new InvalidArgumentError(`expected 1 to 25, got "${value}"`);
  }
  return n;
}

export function jobRunCommands(ctx: Ctx): Command[] {
  const run = examples(
    new Command("run")
      .description(
        "Run a Python file as a one-time job (spark_python_task): check it for the known pitfalls, upload it " +
          "(and --include trees) as workspace files, submit, watch, and fetch every task's output into " +
          "job_outputs/<run_id>/. A failed run is explained (`diagnosis`). ARGS after -- become the task's argv.",
      )
      .argument("<file>", "the Python script")
      .argument("[args...]", "arguments for the script (after --)")
      .option(
        "--cluster-id <id>",
        "run on this existing all-purpose cluster (default: DATABRICKS_CLUSTER_ID)",
      )
      .option("--new-cluster", "run on a new job cluster from --template (the default without a cluster id)")
      .option("--template <name>", "new-cluster template: ml-single-node (default), cpu-single-node, ...")
      .option("--cluster-spec <file>", "JSON merged over the template (e.g. node_type_id, spark_version)")
      .option("--instance-pool <id>", "new cluster from this instance pool (faster start)")
      .option(
        "--serverless",
        "run on serverless compute: no cluster, a job environment instead (the workspace needs Unity Catalog)",
      )
      .option(
        "--dependency <spec>",
        "pip requirement installed into the serverless environment, e.g. 'pandas>=2.2' (repeatable)",
        repeat,
        [] as string[],
      )
      .option("--environment-version <n>", "the serverless environment version (default: 4)")
      .option("--include <dir>", "also upload this directory tree (repeatable)", repeat, [] as string[])
      .option("--wrap", "run through dbxr's runner: __file__ set, tree copied to a local dir and on sys.path")
      .option("--force", "submit even when the checks find errors (they are reported in `warnings`)")
      .option(
        "--strict",
        "warnings (local and online, e.g. an active run of the same name) stop the submit too",
      )
      .option("--ensure-schema", "create the Unity Catalog schema the script registers into, when missing")
      .option(
        "--env <KEY=VALUE>",
        "environment variable for a new cluster (repeatable)",
        repeat,
        [] as string[],
      )
      .option(
        "--libraries <pkgs>",
        "PyPI packages to install, comma-separated (what %pip did in the REPL; with --serverless: dependencies)",
        list,
        [] as string[],
      )
      .option("--run-name <name>", "the run's name (default: dbxr <file>)")
      .option("--timeout <seconds>", "the run's timeout on Databricks (0: none)", runTimeoutSeconds, 0)
      .option("--no-wait", "return once submitted, with the run id")
      .addOption(previewOption("each task's logs_preview (the end of its log)"))
      .option("--no-cancel-on-interrupt", "leave the run going on Ctrl-C/SIGTERM")
      .action(async (file, args, o, c) => {
        const g = globals(c);
        const { runJob } = await jobsLib();
        const conn = await connect(ctx, g, "job_run");
        const r = await runJob(ctx, conn, {
          file,
          args,
          clusterId: o.clusterId,
          newCluster: Boolean(o.newCluster),
          template: o.template,
          clusterSpecFile: o.clusterSpec,
          instancePool: o.instancePool,
          include: o.include,
          wrap: Boolean(o.wrap),
          force: Boolean(o.force),
          strict: Boolean(o.strict),
          wait: o.wait !== false,
          cancelOnInterrupt: o.cancelOnInterrupt !== false,
          ensureSchema: Boolean(o.ensureSchema),
          env: o.env,
          libraries: o.libraries,
          serverless: Boolean(o.serverless),
          dependencies: o.dependency,
          environmentVersion: o.environmentVersion,
          runName: o.runName,
          timeoutSeconds: o.timeout,
          projectDir: g.projectDir ?? ".",
          previewChars: o.preview,
        });
        ctx.out.result(r.report, { text: runReportText, exitCode: r.exitCode });
      }),
    [
      "dbxr job run log_model.py --ensure-schema",
      "dbxr job run train.py --include src --wrap -- --epochs 3",
      "dbxr job run job.py --cluster-id 0123-456789-abcdefgh --no-wait",
      "dbxr job run job.py --template cpu-single-node --cluster-spec spec.json --libraries mlflow,langgraph",
      "dbxr job run etl.py --serverless --dependency 'pandas>=2.2' -- --date 2026-01-31",
    ],
  );

  const status = examples(
    new Command("status").description("Show a run's state and its tasks").argument("<run-id>", "", runId)
      .action(async (id, _o, c) => {
        const { runStatus } = await import("../jobs/runs.ts");
        const conn = await connect(ctx, globals(c), "job_status");
        ctx.out.result(await runStatus(conn.client, id), { text: runReportText });
      }),
    ["dbxr job status 123456"],
  );

  const watch = examples(
    new Command("watch")
      .description("Watch a run to its end, then fetch its outputs (and explain a failure)")
      .argument("<run-id>", "", runId)
      .option("--no-cancel-on-interrupt", "leave the run going on Ctrl-C (the default for watch)")
      .option("--cancel-on-interrupt", "cancel the run on Ctrl-C")
      .addOption(previewOption("each task's logs_preview (the end of its log)"))
      .action(async (id, o, c) => {
        const g = globals(c);
        const { finishRun } = await jobsLib();
        const conn = await connect(ctx, g, "job_watch");
        const r = await finishRun(ctx, conn, id, {
          cancelOnInterrupt: o.cancelOnInterrupt === true,
          projectDir: g.projectDir ?? ".",
          previewChars: o.preview,
        });
        ctx.out.result(r.report, { text: runReportText, exitCode: r.exitCode });
      }),
    ["dbxr job watch 123456"],
  );

  const output = examples(
    new Command("output")
      .description("Fetch every task's output (by TASK run id) into job_outputs/<run_id>/<task>.log")
      .argument("<run-id>", "", runId)
      .addOption(previewOption("each task's logs_preview (the end of its log)"))
      .action(async (id, o, c) => {
        const g = globals(c);
        const { runOutput } = await import("../jobs/runs.ts");
        const conn = await connect(ctx, g, "job_output");
        const r = await runOutput(ctx, conn.client, id, g.projectDir ?? ".", o.preview);
        ctx.out.result(r, { text: runReportText });
      }),
    [
      "dbxr job output 123456",
      "dbxr job output 123456 --preview 1000",
      "dbxr job output 123456 --project-dir examples/agent",
    ],
  );

  const cancel = examples(
    new Command("cancel")
      .description("Cancel a run and wait (bounded) until it has ended")
      .argument("<run-id>", "", runId)
      .action(async (id, _o, c) => {
        const { cancelRun } = await import("../jobs/runs.ts");
        const conn = await connect(ctx, globals(c), "job_cancel");
        ctx.out.result(await cancelRun(ctx, conn.client, id), { text: runReportText });
      }),
    ["dbxr job cancel 123456"],
  );

  const diagnoseCmd = examples(
    new Command("diagnose")
      .description(
        "Explain why a run failed: its error and trace matched against the job-runner guide's troubleshooting " +
          "table and other known failures, each with the cause, the fix and the command that applies it.",
      )
      .argument("<run-id>", "", runId)
      .action(async (id, _o, c) => {
        const g = globals(c);
        const { runDiagnosis } = await import("../jobs/runs.ts");
        const conn = await connect(ctx, g, "job_diagnose");
        const r = await runDiagnosis(ctx, conn.client, id, g.projectDir ?? ".");
        ctx.out.result(r, { text: runReportText });
      }),
    ["dbxr job diagnose 123456"],
  );

  const listCmd = examples(
    new Command("list")
      .description("List recent one-time runs (newest first)")
      .addOption(new Option("--active", "only runs that have not ended"))
      .option("--limit <n>", "at most this many (1-25)", limit25, 25)
      .action(async (o, c) => {
        const { api, runJson } = await jobsLib();
        const conn = await connect(ctx, globals(c), "job_list");
        const runs = (await api.list(conn.client, { activeOnly: Boolean(o.active), limit: o.limit })).map(
          runJson,
        );
        ctx.out.result(runs, { text: runListText });
      }),
    ["dbxr job list --active"],
  );

  return [run, status, watch, output, cancel, diagnoseCmd, listCmd] as unknown as Command[];
}
