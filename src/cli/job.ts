// The `job` group: thin commands over src/jobs. `check` is static and local; run/status/watch/output/
// cancel/diagnose/list are added beside it, each in its own function.

import { Command, InvalidArgumentError } from "@commander-js/extra-typings";
import type { Ctx } from "../ctx.ts";
import { examples } from "./root.ts";
import { jobRunCommands } from "./job_run.ts";

export function jobCommands(ctx: Ctx): Command {
  const group = new Command("job").description("Run Python scripts as Databricks jobs, and check them first");
  examples(group, [
    "dbxr job check log_model.py --uc",
    "dbxr job run log_model.py --ensure-schema",
    "dbxr job diagnose 123456",
  ]);
  group.addCommand(jobCheckCommand(ctx));
  for (const c of jobRunCommands(ctx)) group.addCommand(c);
  return group as unknown as Command;
}

export function jobCheckCommand(ctx: Ctx) {
  const cmd = new Command("check")
    .description(
      "Check Python job scripts for the pitfalls of spark_python_task, MLflow logging and Unity Catalog " +
        "(__file__, /Workspace/ imports, sys.path before log_model, signatures, %pip lines, access mode, " +
        "spark version, runtime quirks). Static and local: nothing is uploaded or run. Exit 1 " +
        "(PreflightFailed) on errors, or on warnings with --strict.",
    )
    .argument("<files...>", "the job's script first, then the files it imports or logs (e.g. agent.py)")
    .option("--cluster-spec <file>", "the job cluster's JSON (new_cluster, or a job spec with tasks)")
    .option("--uc", "the job touches Unity Catalog (the cluster needs SINGLE_USER access mode)")
    .option("--strict", "warnings fail the check too")
    .option("--serverless", "the job runs on serverless compute: no cluster rules, the serverless ones")
    .option(
      "--dependency <spec>",
      "a pip requirement of the serverless environment (repeatable): counts as installed",
      (v: string, prev: string[] = []) => [...prev, v],
      [] as string[],
    )
    .option(
      "--runtime <version>",
      "the runtime the job will use, e.g. 16.4 or 16.4.x-cpu-ml-scala2.12",
      runtime,
    )
    .action(async (files, o) => {
      // Loaded here so that other commands do not pay for the tokenizer and the rules at start-up.
      const { checkFiles } = await import("../jobs/check.ts");
      const { preflightExitCode, preflightJson, preflightText } = await import("../jobs/render.ts");
      const report = await checkFiles(ctx, files, {
        clusterSpecFile: o.clusterSpec,
        uc: Boolean(o.uc),
        strict: Boolean(o.strict),
        runtime: o.runtime,
        serverless: Boolean(o.serverless),
        dependencies: o.dependency,
      });
      ctx.out.result(preflightJson(report), { text: preflightText, exitCode: preflightExitCode(report) });
    });
  return examples(cmd, [
    "dbxr job check log_model.py agent.py",
    "dbxr job check log_model.py --cluster-spec cluster.json --uc --strict",
    "dbxr job check deploy_agent.py --runtime 16.4 --text",
    "dbxr job check etl.py --serverless --dependency databricks-langchain",
  ]);
}

function runtime(value: string): string {
  if (!/^\s*\d+(\.(\d+|x))?/.test(value)) {
    throw new InvalidArgumentError(`expected a runtime version such as 16.4, got "${value}"`);
  }
  return value;
}
