// The seed's REPL commands (create, exec, await, cancel, destroy, status) as data and as one dispatcher,
// without commander: src/cli/repl.ts builds their commander commands from REPL_COMMANDS (help, completion,
// errors), src/cli/fast.ts parses their common command lines directly (an agent's every step starts here,
// issue 9 §3), and both hand the same ReplInvocation to runRepl. They print JSON unless --text asks for
// text, as the seed printed JSON on a terminal too.

import type { Ctx } from "../ctx.ts";
import { DbxrError } from "../errors.ts";
import { shellQuote } from "../shell.ts";
import { mark } from "../trace.ts";
import { DEFAULT_PREVIEW } from "../session/outputs.ts";
import { cancelText, createText, destroyText, execText, statusText } from "../repl/text.ts";
import type { GlobalFlags, OptionSpec } from "./options.ts";
import { nonNegativeInt, positiveNumber } from "./values.ts";

export type ReplCommandName = "create" | "exec" | "await" | "cancel" | "destroy" | "status";

export interface ReplCommandSpec {
  name: ReplCommandName;
  description: string;
  options: readonly OptionSpec[];
  examples: readonly string[];
}

/** `--preview N`: how many characters of an output the answer quotes (the seed's 200 by default). */
export function previewSpec(what: string): OptionSpec {
  return {
    flags: "--preview <n>",
    description: `characters in ${what}`,
    parse: nonNegativeInt,
    default: DEFAULT_PREVIEW,
  };
}

export const REPL_COMMANDS: readonly ReplCommandSpec[] = [
  {
    name: "create",
    description:
      "Create a session: an execution context on a running all-purpose cluster, bootstrapped with " +
      "sub_llm()/sub_llm_batch(), recorded in <project-dir>/session.json. Outputs go to repl_outputs/.",
    options: [
      {
        flags: "--cluster-id <id>",
        description: "cluster to run on (default: DATABRICKS_CLUSTER_ID or the profile's cluster_id)",
      },
      {
        flags: "--session-name <name>",
        description: "a name for the session (recorded in session.json)",
        required: true,
      },
      {
        flags: "--language <lang>",
        description: "the context's language",
        choices: ["python", "sql", "scala"],
        default: "python",
      },
      {
        flags: "--force",
        description: "replace a live session: destroy its context, keep its file as session.<ts>.json",
      },
    ],
    examples: [
      "dbxr create --cluster-id 0123-456789-abcdefgh --session-name churn --project-dir examples/churn",
      "DATABRICKS_CLUSTER_ID=0123-456789-abcdefgh dbxr create --session-name quick",
    ],
  },
  {
    name: "exec",
    description: "Run code as the next step of the session and wait for it. The code goes to " +
      "repl_outputs/NNN_<tag>.cmd.py first; stdout/stderr land in .stdout/.stderr files; the JSON answer " +
      "has their sizes and previews. Past --timeout the command keeps running: `dbxr await` it.",
    options: [
      {
        flags: "--command <code>",
        description: "the code, @FILE to read it from a file, or - for stdin",
        required: true,
      },
      { flags: "--tag <tag>", description: "a label for this step (used in the file names)", required: true },
      {
        flags: "--timeout <seconds>",
        description: "wait at most this long, then answer Running",
        parse: positiveNumber,
        default: 600,
      },
      previewSpec("stdout_preview/stderr_preview"),
      {
        flags: "--no-replay",
        description:
          "record that `dbxr repl replay` must skip this step (side effects that must not run twice)",
        conflicts: "replaySafe",
      },
      {
        flags: "--replay-safe",
        description: "record that running this step again is fine (no replay warning)",
      },
    ],
    examples: [
      `dbxr exec --command "print(spark.version)" --tag version`,
      `dbxr exec --command "df.write.saveAsTable('main.x.t')" --tag save --no-replay`,
      "dbxr exec --command @step3_train.py --tag train --timeout 1800",
      "cat query.sql | dbxr exec --command - --tag query",
    ],
  },
  {
    name: "await",
    description: "Wait again for the command that an exec (or await) left Running, and record it",
    options: [
      {
        flags: "--timeout <seconds>",
        description: "wait at most this long, then answer Running again",
        parse: positiveNumber,
        default: 600,
      },
      previewSpec("stdout_preview/stderr_preview"),
    ],
    examples: ["dbxr await", "dbxr await --timeout 1200 --project-dir examples/churn"],
  },
  {
    name: "cancel",
    description:
      "Cancel the running command (from session.json, or --run-id) and wait until it has ended (about " +
      "10 s at most); the step is recorded as Cancelled with whatever output it left.",
    options: [{
      flags: "--run-id <command-id>",
      description: "the command id to cancel (default: the session's active command)",
    }],
    examples: ["dbxr cancel", "dbxr cancel --run-id 3a601163-d3c7-40f9-9c61-deb92c7a2c9d"],
  },
  {
    name: "destroy",
    description: "Destroy the session's context and mark the session destroyed; every file is kept",
    options: [],
    examples: ["dbxr destroy", "dbxr destroy --project-dir examples/churn"],
  },
  {
    name: "status",
    description: "Show the session: cluster state, whether the context is alive, the active command, steps",
    options: [],
    examples: ["dbxr status", "dbxr status --project-dir examples/churn"],
  },
];

/** A REPL command to run, however its command line was parsed. */
export type ReplInvocation =
  | {
    command: "create";
    clusterId?: string;
    sessionName: string;
    language: "python" | "sql" | "scala";
    force: boolean;
  }
  | {
    command: "exec";
    code: string;
    tag: string;
    timeout: number;
    preview: number;
    /** false: --no-replay; true: --replay-safe; absent: neither. */
    replay?: boolean;
  }
  | { command: "await"; timeout: number; preview: number }
  | { command: "cancel"; runId?: string }
  | { command: "destroy" }
  | { command: "status" };

/**
 * The invocation from a command's option values (defaults applied, as commander keeps them) and the
 * attributes that the command line itself set.
 */
export function invocationFrom(
  command: ReplCommandName,
  v: Record<string, unknown>,
  fromCommandLine: (attr: string) => boolean,
): ReplInvocation {
  switch (command) {
    case "create":
      return {
        command,
        ...(v.clusterId !== undefined ? { clusterId: v.clusterId as string } : {}),
        sessionName: v.sessionName as string,
        language: v.language as "python" | "sql" | "scala",
        force: Boolean(v.force),
      };
    case "exec": {
      // A --no-x flag defaults to true; only an explicit --no-replay is recorded.
      const replay = v.replaySafe ? true : fromCommandLine("replay") ? false : undefined;
      return {
        command,
        code: v.command as string,
        tag: v.tag as string,
        timeout: v.timeout as number,
        preview: v.preview as number,
        ...(replay !== undefined ? { replay } : {}),
      };
    }
    case "await":
      return { command, timeout: v.timeout as number, preview: v.preview as number };
    case "cancel":
      return { command, ...(v.runId !== undefined ? { runId: v.runId as string } : {}) };
    case "destroy":
    case "status":
      return { command };
  }
}

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

/** Runs one REPL command and prints its answer through ctx.out. */
export async function runRepl(ctx: Ctx, inv: ReplInvocation, g: GlobalFlags): Promise<void> {
  switch (inv.command) {
    case "create": {
      const { createSession } = await repl();
      const r = await createSession(ctx, g, {
        ...(inv.clusterId !== undefined ? { clusterId: inv.clusterId } : {}),
        sessionName: inv.sessionName,
        language: inv.language,
        force: inv.force,
      });
      return ctx.out.result(r, { ...JSON_ALWAYS, text: createText });
    }
    case "exec": {
      const code = await readCode(ctx, inv.code, g.projectDir);
      const { openRepl, execStep } = await repl();
      const env = await openRepl(ctx, g, "exec");
      const r = await execStep(env, {
        code,
        tag: inv.tag,
        timeoutSeconds: inv.timeout,
        previewChars: inv.preview,
        ...(inv.replay !== undefined ? { replay: inv.replay } : {}),
      });
      return ctx.out.result(r.response, { ...JSON_ALWAYS, text: execText, exitCode: r.exitCode });
    }
    case "await": {
      const { openRepl, awaitStep } = await repl();
      const env = await openRepl(ctx, g, "await");
      const r = await awaitStep(env, inv.timeout, inv.preview);
      return ctx.out.result(r.response, { ...JSON_ALWAYS, text: execText, exitCode: r.exitCode });
    }
    case "cancel": {
      const { cancelCommand } = await repl();
      const r = await cancelCommand(ctx, g, inv.runId);
      return ctx.out.result(r.response, { ...JSON_ALWAYS, text: cancelText, exitCode: r.exitCode });
    }
    case "destroy":
      return ctx.out.result(await (await repl()).destroySession(ctx, g), {
        ...JSON_ALWAYS,
        text: destroyText,
      });
    case "status":
      return ctx.out.result(await (await repl()).sessionStatus(ctx, g), { ...JSON_ALWAYS, text: statusText });
  }
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
