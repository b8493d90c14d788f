// dbxr's MCP tools: thin adapters over the services that the CLI commands call (src/repl, src/jobs,
// src/clusters, src/llm). Each returns the JSON that the matching CLI command prints. Paths that a tool
// takes are relative to the project dir.

import { isAbsolute, join } from "node:path";
import { z } from "zod";
import { connect } from "../api/connect.ts";
import { startCluster } from "../clusters/start.ts";
import { findClusters, listClusters } from "../clusters/list.ts";
import { checkFiles } from "../jobs/check.ts";
import { preflightExitCode, preflightJson } from "../jobs/render.ts";
import { runJob } from "../jobs/run.ts";
import { cancelRun, runDiagnosis, runOutput, runStatus } from "../jobs/runs.ts";
import { ask } from "../llm/ask.ts";
import { consolidateSession } from "../repl/consolidate.ts";
import { sessionHistory } from "../repl/history.ts";
import { replaySession } from "../repl/replay.ts";
import { openRepl } from "../repl/env.ts";
import { awaitStep, execStep } from "../repl/exec.ts";
import { cancelCommand, createSession, destroySession, sessionStatus } from "../repl/lifecycle.ts";
import { readOutput } from "./read_output.ts";
import {
  type Action,
  actionTool,
  answer,
  type Args,
  simpleTool,
  type ToolCall,
  type ToolDef,
} from "./tool_kit.ts";

/** Below the 60 s request timeout of most MCP clients; a longer step answers Running, then `await`. */
export const DEFAULT_WAIT_SECONDS = 50;

const projectDir = (c: ToolCall) => c.flags.projectDir ?? ".";
const inProject = (c: ToolCall, p: string) => isAbsolute(p) ? p : join(projectDir(c), p);
const str = (a: Args, k: string) => a[k] as string | undefined;
const num = (a: Args, k: string) => a[k] as number | undefined;
const strs = (a: Args, k: string) => (a[k] as string[] | undefined) ?? [];

const seconds = (what: string) => z.number().positive().describe(what);
const preview = z.number().int().min(0).describe(
  "characters of stdout/stderr in the answer's previews (200)",
);
const logsPreview = z.number().int().min(0).describe(
  "run/output: characters of each task's logs_preview (200)",
);
const runId = z.number().int().positive().describe("the run id from job run");

const replActions: Record<string, Action> = {
  create: {
    summary: "open a session: a Python context on a running all-purpose cluster (session.json)",
    fields: {
      cluster_id: z.string().describe("create: the cluster (default: DATABRICKS_CLUSTER_ID)"),
      session_name: z.string().min(1).describe("create: a name for the session"),
      language: z.enum(["python", "sql", "scala"]).describe("create: the context's language (python)"),
      force: z.boolean().describe("create: replace a live session; consolidate: overwrite the script"),
    },
    required: ["session_name"],
    run: async (a, c) =>
      answer(
        await createSession(c.ctx, c.flags, {
          clusterId: str(a, "cluster_id"),
          sessionName: str(a, "session_name")!,
          language: (str(a, "language") ?? "python") as "python" | "sql" | "scala",
          force: Boolean(a.force),
        }),
      ),
  },
  exec: {
    summary:
      "run code as the next step (state is kept between steps); outputs go to repl_outputs/NNN_tag.* " +
      "and the answer has sizes and previews. Past timeout_seconds it answers Running: then await.",
    fields: {
      code: z.string().min(1).describe("exec: the code to run"),
      tag: z.string().min(1).describe("exec: a short label for the step, used in its file names"),
      timeout_seconds: seconds(`exec/await: wait at most this long (${DEFAULT_WAIT_SECONDS})`),
      preview_chars: preview,
    },
    required: ["code", "tag"],
    run: async (a, c) => {
      const env = await openRepl(c.ctx, c.flags, "mcp_exec");
      const r = await execStep(env, {
        code: str(a, "code")!,
        tag: str(a, "tag")!,
        timeoutSeconds: num(a, "timeout_seconds") ?? DEFAULT_WAIT_SECONDS,
        previewChars: num(a, "preview_chars") ?? 200,
      });
      return answer(r.response, r.exitCode);
    },
  },
  await: {
    summary: "wait again for the step that answered Running",
    fields: { timeout_seconds: seconds("exec/await: wait at most this long"), preview_chars: preview },
    run: async (a, c) => {
      const env = await openRepl(c.ctx, c.flags, "mcp_await");
      const r = await awaitStep(
        env,
        num(a, "timeout_seconds") ?? DEFAULT_WAIT_SECONDS,
        num(a, "preview_chars") ?? 200,
      );
      return answer(r.response, r.exitCode);
    },
  },
  cancel: {
    summary: "cancel the running step (or command_id) and record it as Cancelled",
    fields: { command_id: z.string().describe("cancel: a command id (default: the session's running step)") },
    run: async (a, c) => {
      const r = await cancelCommand(c.ctx, c.flags, str(a, "command_id"));
      return answer(r.response, r.exitCode);
    },
  },
  status: {
    summary: "the session: cluster state, context alive, running step, steps so far",
    run: async (_a, c) => answer(await sessionStatus(c.ctx, c.flags)),
  },
  destroy: {
    summary: "end the session's context; every file is kept",
    run: async (_a, c) => answer(await destroySession(c.ctx, c.flags)),
  },
  history: {
    summary: "the session's steps: tag, status, elapsed, output sizes and files (reads files only)",
    run: async (_a, c) => answer(await sessionHistory(c.ctx, c.flags)),
  },
  replay: {
    summary: "after ContextEvicted (or any time): re-run the recorded successful steps into the current " +
      "context, as new steps; dry_run shows the plan (what runs, what is skipped and why) first",
    fields: {
      dry_run: z.boolean().describe("replay: only show the plan"),
      from_step: z.number().int().positive().describe("replay: first recorded step to consider"),
      to_step: z.number().int().positive().describe("replay: last recorded step to consider"),
      only_tags: z.array(z.string().min(1)).describe("replay: only the steps with these tags"),
      skip_failed: z.boolean().describe("replay: go on past a step that fails (default: stop there)"),
      timeout_seconds: seconds(
        `exec/await/replay: wait at most this long per step (${DEFAULT_WAIT_SECONDS})`,
      ),
      preview_chars: preview,
    },
    run: async (a, c) => {
      const r = await replaySession(c.ctx, c.flags, {
        from: num(a, "from_step"),
        to: num(a, "to_step"),
        only: a.only_tags === undefined ? undefined : strs(a, "only_tags"),
        allAttempts: false,
        dryRun: Boolean(a.dry_run),
        skipFailed: Boolean(a.skip_failed),
        timeoutSeconds: num(a, "timeout_seconds") ?? DEFAULT_WAIT_SECONDS,
        previewChars: num(a, "preview_chars") ?? 200,
      });
      return answer(r.response, r.exitCode);
    },
  },
  consolidate: {
    summary: "write the session's successful steps as one Python script, checked like job check",
    fields: {
      out: z.string().describe("consolidate: the script's path (default: <session_name>.py)"),
      include_failed: z.boolean().describe("consolidate: keep tags whose every attempt failed"),
      force: z.boolean().describe("create: replace a live session; consolidate: overwrite the script"),
    },
    run: async (a, c) =>
      answer(
        await consolidateSession(c.ctx, {
          projectDir: c.flags.projectDir,
          out: str(a, "out") === undefined ? undefined : inProject(c, str(a, "out")!),
          includeFailed: Boolean(a.include_failed),
          force: Boolean(a.force),
        }),
      ),
  },
};

const jobActions: Record<string, Action> = {
  check: {
    summary: "static checks of job scripts for known pitfalls (nothing runs); findings with fixes",
    fields: {
      files: z.array(z.string()).min(1).describe("check: the script first, then files it imports or logs"),
      cluster_spec: z.string().describe("check/run: a cluster spec JSON file"),
      uc: z.boolean().describe("check: the job uses Unity Catalog"),
      strict: z.boolean().describe("check/run: warnings fail too (run: nothing is submitted)"),
      runtime: z.string().describe("check: the runtime, e.g. 16.4"),
      serverless: z.boolean().describe("check/run: serverless compute: no cluster, a job environment"),
      dependencies: z.array(z.string()).describe("check/run: pip requirements of the serverless environment"),
    },
    required: ["files"],
    run: async (a, c) => {
      const spec = str(a, "cluster_spec");
      const report = await checkFiles(c.ctx, strs(a, "files").map((f) => inProject(c, f)), {
        clusterSpecFile: spec === undefined ? undefined : inProject(c, spec),
        uc: Boolean(a.uc),
        strict: Boolean(a.strict),
        runtime: str(a, "runtime"),
        serverless: Boolean(a.serverless),
        dependencies: strs(a, "dependencies"),
      });
      return answer(preflightJson(report), preflightExitCode(report));
    },
  },
  run: {
    summary: "check, upload and run a Python file as a one-time job, wait, fetch logs to job_outputs/, " +
      "explain a failure (diagnosis)",
    fields: {
      file: z.string().describe("run: the Python script"),
      args: z.array(z.string()).describe("run: the script's arguments (sys.argv[1:])"),
      cluster_id: z.string().describe(
        "run: an all-purpose cluster (default: DATABRICKS_CLUSTER_ID, else a new job cluster)",
      ),
      new_cluster: z.boolean().describe("run: a new job cluster even when DATABRICKS_CLUSTER_ID is set"),
      template: z.string().describe("run: new-cluster template (ml-single-node)"),
      cluster_spec: z.string().describe("check/run: a cluster spec JSON file"),
      include: z.array(z.string()).describe("run: directories to upload too"),
      wrap: z.boolean().describe("run: set __file__ and put the uploaded tree on sys.path"),
      force: z.boolean().describe("run: submit despite check errors"),
      ensure_schema: z.boolean().describe("run: create the UC schema the script registers into"),
      libraries: z.array(z.string()).describe("run: PyPI packages to install"),
      env: z.array(z.string()).describe("run: KEY=VALUE for a new cluster"),
      run_name: z.string().describe("run: the run's name"),
      strict: z.boolean().describe("check/run: warnings fail too (run: nothing is submitted)"),
      wait: z.boolean().describe("run: wait for the end (true); false answers once submitted"),
      preview_chars: logsPreview,
      serverless: z.boolean().describe("check/run: serverless compute: no cluster, a job environment"),
      dependencies: z.array(z.string()).describe("check/run: pip requirements of the serverless environment"),
    },
    required: ["file"],
    run: async (a, c) => {
      const conn = await connect(c.ctx, c.flags, "mcp_job_run");
      const spec = str(a, "cluster_spec");
      const r = await runJob(c.ctx, conn, {
        file: inProject(c, str(a, "file")!),
        args: strs(a, "args"),
        clusterId: str(a, "cluster_id"),
        newCluster: Boolean(a.new_cluster),
        template: str(a, "template"),
        clusterSpecFile: spec === undefined ? undefined : inProject(c, spec),
        include: strs(a, "include").map((d) => inProject(c, d)),
        wrap: Boolean(a.wrap),
        force: Boolean(a.force),
        strict: Boolean(a.strict),
        wait: a.wait !== false,
        cancelOnInterrupt: true,
        ensureSchema: Boolean(a.ensure_schema),
        env: strs(a, "env"),
        libraries: strs(a, "libraries"),
        runName: str(a, "run_name"),
        timeoutSeconds: 0,
        projectDir: projectDir(c),
        previewChars: num(a, "preview_chars"),
        serverless: Boolean(a.serverless),
        dependencies: strs(a, "dependencies"),
      });
      return answer(r.report, r.exitCode);
    },
  },
  status: {
    summary: "a run's state and its tasks",
    fields: { run_id: runId },
    required: ["run_id"],
    run: async (a, c) => {
      const conn = await connect(c.ctx, c.flags, "mcp_job_status");
      return answer(await runStatus(conn.client, num(a, "run_id")!));
    },
  },
  output: {
    summary: "fetch every task's log into job_outputs/<run_id>/ (read them with read_output)",
    fields: { run_id: runId, preview_chars: logsPreview },
    required: ["run_id"],
    run: async (a, c) => {
      const conn = await connect(c.ctx, c.flags, "mcp_job_output");
      return answer(
        await runOutput(c.ctx, conn.client, num(a, "run_id")!, projectDir(c), num(a, "preview_chars")),
      );
    },
  },
  diagnose: {
    summary: "why a run failed: cause, fix and the next step",
    fields: { run_id: runId },
    required: ["run_id"],
    run: async (a, c) => {
      const conn = await connect(c.ctx, c.flags, "mcp_job_diagnose");
      return answer(await runDiagnosis(c.ctx, conn.client, num(a, "run_id")!, projectDir(c)));
    },
  },
  cancel: {
    summary: "cancel a run and wait until it has ended",
    fields: { run_id: runId },
    required: ["run_id"],
    run: async (a, c) => {
      const conn = await connect(c.ctx, c.flags, "mcp_job_cancel");
      return answer(await cancelRun(c.ctx, conn.client, num(a, "run_id")!));
    },
  },
};

const clusterActions: Record<string, Action> = {
  find: {
    summary: "all-purpose clusters whose name contains `name`, running first (for repl create)",
    fields: { name: z.string().describe("find: part of the cluster name (default: all)") },
    run: async (a, c) => {
      const conn = await connect(c.ctx, c.flags, "mcp_cluster_find");
      return answer(await findClusters(conn.client, str(a, "name")));
    },
  },
  list: {
    summary: "every cluster of the workspace, running first",
    fields: { state: z.string().describe("list: only this state, e.g. RUNNING") },
    run: async (a, c) => {
      const conn = await connect(c.ctx, c.flags, "mcp_cluster_list");
      return answer(await listClusters(conn.client, str(a, "state")));
    },
  },
  start: {
    summary: "start a terminated cluster; wait: true returns when it is RUNNING",
    fields: {
      cluster_id: z.string().describe("the cluster"),
      wait: z.boolean().describe("start: wait until RUNNING (false)"),
      timeout_seconds: seconds("start: give up waiting after this long (1200)"),
    },
    required: ["cluster_id"],
    run: async (a, c) => {
      const conn = await connect(c.ctx, c.flags, "mcp_cluster_start");
      return answer(
        await startCluster(c.ctx, conn.client, str(a, "cluster_id")!, {
          wait: Boolean(a.wait),
          timeoutSeconds: num(a, "timeout_seconds") ?? 1200,
        }),
      );
    },
  },
};

export function dbxrTools(): ToolDef[] {
  return [
    actionTool(
      "repl",
      "A stateful remote Python session on a Databricks cluster, recorded in the project dir " +
        "(session.json, repl_outputs/). The same session the dbxr CLI uses.",
      replActions,
    ),
    simpleTool(
      "read_output",
      "Read part of a step's stdout/stderr (by cmd_id) or of a file under the project dir such as a job " +
        "log (path). offset/limit count lines (default) or bytes; a negative offset counts from the end. " +
        "The answer has next_offset for the next part.",
      {
        cmd_id: z.string().describe("a step's cmd_id, e.g. 003_train").optional(),
        stream: z.enum(["stdout", "stderr"]).describe("with cmd_id (stdout)").optional(),
        path: z.string().describe("a file under the project dir, e.g. a job task's log_file").optional(),
        unit: z.enum(["lines", "bytes"]).describe("lines").optional(),
        offset: z.number().int().describe("where to start (0); -N: the last N").optional(),
        limit: z.number().int().min(1).describe("how much (200 lines or 16000 bytes)").optional(),
      },
      async (a, c) =>
        answer(
          await readOutput({
            projectDir: projectDir(c),
            cmdId: str(a, "cmd_id"),
            stream: a.stream as "stdout" | "stderr" | undefined,
            path: str(a, "path"),
            unit: (str(a, "unit") ?? "lines") as "lines" | "bytes",
            offset: num(a, "offset") ?? 0,
            limit: num(a, "limit") ?? (a.unit === "bytes" ? 16_000 : 200),
          }),
        ),
    ),
    actionTool("job", "Python scripts as Databricks one-time job runs (spark_python_task).", jobActions),
    actionTool("cluster", "Find, list and start clusters.", clusterActions),
    simpleTool(
      "llm_ask",
      "Ask a Databricks serving endpoint one question (chat format); answers its text and token usage.",
      {
        endpoint: z.string().min(1).describe("the serving endpoint"),
        prompt: z.string().min(1).describe("the question"),
        system: z.string().describe("a system message").optional(),
        max_tokens: z.number().int().positive().describe("the answer's length limit (1024)").optional(),
        temperature: z.number().min(0).max(2).describe("0 to 2 (0)").optional(),
      },
      async (a, c) => {
        const conn = await connect(c.ctx, c.flags, "mcp_llm_ask");
        return answer(
          await ask(c.ctx, conn.client, {
            endpoint: str(a, "endpoint")!,
            prompt: str(a, "prompt")!,
            system: str(a, "system"),
            maxTokens: num(a, "max_tokens"),
            temperature: num(a, "temperature"),
          }, c.ctx.signal),
        );
      },
    ),
  ];
}
