// The seed's REPL commands: create, exec, await, cancel, destroy, status. They print JSON unless --text
// asks for text, as the seed printed JSON on a terminal too.

import { shellQuote } from "../shell.ts";
import { Command, Option } from "@commander-js/extra-typings";
import type { Ctx } from "../ctx.ts";
import { DbxrError } from "../errors.ts";
import { examples, globals } from "./root.ts";
import { mark } from "../trace.ts";
import { positiveNumber, previewOption } from "./parse.ts";
import { cancelText, createText, destroyText, execText, statusText } from "../repl/text.ts";

const JSON_ALWAYS = { alwaysJson: true } as const;

// Loaded when a REPL command runs, not at start-up (the bootstrap alone is 20 KB of source).
const repl = async () => {
  mark("repl:import");
  const m = {
    ...(await import("../repl/env.ts")),
    ...(await import("../repl/exec.ts")),
    ...(await import("../repl/lifecycle.ts")),
  };
  mark("repl:imported");
  return m;
};

export function replCommands(ctx: Ctx): Command[] {
  const create = examples(
    new Command("create")
      .description(
        "Create a session: an execution context on a running all-purpose cluster, bootstrapped with " +
          "sub_llm()/sub_llm_batch(), recorded in <project-dir>/session.json. Outputs go to repl_outputs/.",
      )
      .option(
        "--cluster-id <id>",
        "cluster to run on (default: DATABRICKS_CLUSTER_ID or the profile's cluster_id)",
      )
      .requiredOption("--session-name <name>", "a name for the session (recorded in session.json)")
      .addOption(
        new Option("--language <lang>", "the context's language").choices(["python", "sql", "scala"]).default(
          "python",
        ),
      )
      .option("--force", "replace a live session: destroy its context, keep its file as session.<ts>.json")
      .action(async (o, c) => {
        const { createSession } = await repl();
        const r = await createSession(ctx, globals(c), {
          clusterId: o.clusterId,
          sessionName: o.sessionName,
          language: o.language as "python" | "sql" | "scala",
          force: Boolean(o.force),
        });
        ctx.out.result(r, { ...JSON_ALWAYS, text: createText });
      }),
    [
      "dbxr create --cluster-id 0123-456789-abcdefgh --session-name churn --project-dir examples/churn",
      "DATABRICKS_CLUSTER_ID=0123-456789-abcdefgh dbxr create --session-name quick",
    ],
  );

  const exec = examples(
    new Command("exec")
      .description(
        "Run code as the next step of the session and wait for it. The code goes to " +
          "repl_outputs/NNN_<tag>.cmd.py first; stdout/stderr land in .stdout/.stderr files; the JSON answer " +
          "has their sizes and previews. Past --timeout the command keeps running: `dbxr await` it.",
      )
      .requiredOption("--command <code>", "the code, @FILE to read it from a file, or - for stdin")
      .requiredOption("--tag <tag>", "a label for this step (used in the file names)")
      .option("--timeout <seconds>", "wait at most this long, then answer Running", positiveNumber, 600)
      .addOption(previewOption("stdout_preview/stderr_preview"))
      .addOption(
        new Option(
          "--no-replay",
          "record that `dbxr repl replay` must skip this step (side effects that must not run twice)",
        ).conflicts("replaySafe"),
      )
      .addOption(
        new Option("--replay-safe", "record that running this step again is fine (no replay warning)"),
      )
      .action(async (o, c) => {
        const code = await readCode(ctx, o.command, globals(c).projectDir);
        // Commander defaults a --no-x flag to true; only an explicit --no-replay is recorded.
        const replay = o.replaySafe ? true : c.getOptionValueSource("replay") === "cli" ? false : undefined;
        const { openRepl, execStep } = await repl();
        const env = await openRepl(ctx, globals(c), "exec");
        const r = await execStep(env, {
          code,
          tag: o.tag,
          timeoutSeconds: o.timeout,
          previewChars: o.preview,
          ...(replay !== undefined ? { replay } : {}),
        });
        ctx.out.result(r.response, { ...JSON_ALWAYS, text: execText, exitCode: r.exitCode });
      }),
    [
      `dbxr exec --command "print(spark.version)" --tag version`,
      `dbxr exec --command "df.write.saveAsTable('main.x.t')" --tag save --no-replay`,
      "dbxr exec --command @step3_train.py --tag train --timeout 1800",
      "cat query.sql | dbxr exec --command - --tag query",
    ],
  );

  const awaitCmd = examples(
    new Command("await")
      .description("Wait again for the command that an exec (or await) left Running, and record it")
      .option("--timeout <seconds>", "wait at most this long, then answer Running again", positiveNumber, 600)
      .addOption(previewOption("stdout_preview/stderr_preview"))
      .action(async (o, c) => {
        const { openRepl, awaitStep } = await repl();
        const env = await openRepl(ctx, globals(c), "await");
        const r = await awaitStep(env, o.timeout, o.preview);
        ctx.out.result(r.response, { ...JSON_ALWAYS, text: execText, exitCode: r.exitCode });
      }),
    ["dbxr await", "dbxr await --timeout 1200 --project-dir examples/churn"],
  );

  const cancel = examples(
    new Command("cancel")
      .description(
        "Cancel the running command (from session.json, or --run-id) and wait until it has ended (about " +
          "10 s at most); the step is recorded as Cancelled with whatever output it left.",
      )
      .option("--run-id <command-id>", "the command id to cancel (default: the session's active command)")
      .action(async (o, c) => {
        const { cancelCommand } = await repl();
        const r = await cancelCommand(ctx, globals(c), o.runId);
        ctx.out.result(r.response, { ...JSON_ALWAYS, text: cancelText, exitCode: r.exitCode });
      }),
    ["dbxr cancel", "dbxr cancel --run-id 3a601163-d3c7-40f9-9c61-deb92c7a2c9d"],
  );

  const destroy = examples(
    new Command("destroy")
      .description("Destroy the session's context and mark the session destroyed; every file is kept")
      .action(async (_o, c) =>
        ctx.out.result(await (await repl()).destroySession(ctx, globals(c)), {
          ...JSON_ALWAYS,
          text: destroyText,
        })
      ),
    ["dbxr destroy", "dbxr destroy --project-dir examples/churn"],
  );

  const status = examples(
    new Command("status")
      .description("Show the session: cluster state, whether the context is alive, the active command, steps")
      .action(async (_o, c) =>
        ctx.out.result(await (await repl()).sessionStatus(ctx, globals(c)), {
          ...JSON_ALWAYS,
          text: statusText,
        })
      ),
    ["dbxr status", "dbxr status --project-dir examples/churn"],
  );

  return [create, exec, awaitCmd, cancel, destroy, status];
}

/**
 * --command: inline code, `@FILE` (only when the value has no newline; resolved against the current
 * directory, then the project dir), or `-` for stdin.
 */
async function readCode(ctx: Ctx, value: string, projectDir?: string): Promise<string> {
  if (value === "-") {
    const code = await ctx.readStdin();
    if (code.trim() === "") {
      throw new DbxrError("InvalidArgument", "--command - read nothing from stdin: there is no code to run", {
        hint: "echo 'print(1)' | dbxr exec --command - --tag first",
      });
    }
    return code;
  }
  if (value.startsWith("@") && !value.includes("\n")) {
    const path = value.slice(1);
    if (path.trim() === "") {
      throw new DbxrError("InvalidArgument", "--command @ needs a file name: --command @FILE", {
        hint: "dbxr exec --command @step.py --tag step",
      });
    }
    const candidates = [path, ...(projectDir && !path.startsWith("/") ? [`${projectDir}/${path}`] : [])];
    for (const p of candidates) {
      let text: string | undefined;
      try {
        text = await ctx.readTextFile(p);
      } catch (e) {
        throw unreadableCommandFile(p, e);
      }
      if (text !== undefined) return text;
    }
    throw new DbxrError("FileNotFound", `Command file not found: ${path}`, {
      hint: `ls ${shellQuote(path)}`,
      details: { path },
    });
  }
  if (value.trim() === "") {
    throw new DbxrError("InvalidArgument", "--command is empty", { hint: "dbxr exec --help" });
  }
  return value;
}

/** A command file that exists but cannot be read as text: a directory, no permission, not UTF-8. */
function unreadableCommandFile(path: string, e: unknown): DbxrError {
  const why = e instanceof Deno.errors.IsADirectory || (e as Error)?.message?.includes("Is a directory")
    ? "is a directory, not a file"
    : e instanceof Deno.errors.PermissionDenied
    ? "cannot be read (permission denied)"
    : e instanceof TypeError
    ? "is not UTF-8 text"
    : `cannot be read (${(e as Error)?.message ?? e})`;
  return new DbxrError("InvalidArgument", `Command file ${path} ${why}`, {
    hint: "dbxr exec --command @FILE --tag TAG, with FILE a text file",
    details: { path },
  });
}
