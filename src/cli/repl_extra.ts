// The `repl` group: what comes after the seed's REPL commands (replay, history, gc). Thin: flags in,
// one service call, the answer out. JSON on pipes, text on a terminal (not seed commands).

import { Command, InvalidArgumentError } from "@commander-js/extra-typings";
import type { Ctx } from "../ctx.ts";
import { DbxrError } from "../errors.ts";
import { examples, globals } from "./root.ts";
import { consolidateCommand } from "./repl_consolidate.ts";
import { positiveNumber, previewOption } from "./parse.ts";

function stepNumber(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a step number ≥ 1, got "${value}"`);
  }
  return n;
}

function tagList(value: string, previous: string[] = []): string[] {
  const tags = value.split(",").map((t) => t.trim()).filter((t) => t !== "");
  if (tags.length === 0) throw new InvalidArgumentError("expected one or more tags, comma-separated");
  return [...previous, ...tags];
}

export function replGroupCommand(ctx: Ctx): Command {
  const group = new Command("repl").description(
    "Beyond the seed's REPL commands: replay a session's steps into its context, list its history, " +
      "turn it into one script, and clean up the execution contexts that abandoned sessions left open.",
  );
  examples(group, [
    "dbxr repl replay --dry-run",
    "dbxr repl history",
    "dbxr repl consolidate",
    "dbxr repl gc --dry-run",
  ]);

  group.addCommand(examples(
    new Command("replay")
      .description(
        "Run the recorded steps again, in order, into the session's current context (after ContextEvicted,\n" +
          "or at any time), from their .cmd files, as new steps marked replay_of in session.json.\n" +
          "What runs: steps recorded as Finished, except --no-replay steps, replays, and earlier attempts of\n" +
          "a tag that was retried right after (only the last runs). Stops at the first failing step unless\n" +
          "--skip-failed; the exit code is that step's (1 Error, 8 Running, 9 ContextEvicted, 130 Cancelled).",
      )
      .option("--from <step>", "first recorded step to consider", stepNumber)
      .option("--to <step>", "last recorded step to consider", stepNumber)
      .option("--only <tags>", "only steps with these tags (comma-separated, repeatable)", tagList)
      .option("--all-attempts", "run every successful attempt of a retried tag, not only the last")
      .option("--skip-failed", "go on with the next steps when a replayed step fails (default: stop)")
      .option("--dry-run", "print the plan (what runs, what is skipped and why, recorded times); run nothing")
      .option("--timeout <seconds>", "wait at most this long for each step", positiveNumber, 600)
      .addOption(previewOption("each step's stdout_preview/stderr_preview"))
      .action(async (o, c) => {
        if (o.from !== undefined && o.to !== undefined && o.from > o.to) {
          throw new DbxrError("InvalidArgument", `--from ${o.from} is after --to ${o.to}.`, {
            hint: "dbxr repl replay --dry-run",
          });
        }
        const { replaySession, replayText } = await import("../repl/replay.ts");
        const r = await replaySession(ctx, globals(c), {
          from: o.from,
          to: o.to,
          only: o.only,
          allAttempts: Boolean(o.allAttempts),
          dryRun: Boolean(o.dryRun),
          skipFailed: Boolean(o.skipFailed),
          timeoutSeconds: o.timeout,
          previewChars: o.preview,
        });
        ctx.out.result(r.response, { text: replayText, exitCode: r.exitCode });
      }),
    [
      "dbxr repl replay --dry-run",
      "dbxr repl replay",
      "dbxr repl replay --from 3 --to 7 --skip-failed --project-dir examples/churn",
      "dbxr repl replay --only load_data,features",
    ],
  ));

  group.addCommand(examples(
    new Command("history")
      .description(
        "The session's steps: step, tag, status, elapsed, output bytes and file. Offline and read-only;\n" +
          "reads session.json files written by the seed's tool too, without changing them.",
      )
      .action(async (_o, c) => {
        const { sessionHistory, historyText } = await import("../repl/history.ts");
        ctx.out.result(await sessionHistory(ctx, globals(c)), { text: historyText });
      }),
    ["dbxr repl history", "dbxr repl history --json --project-dir examples/churn"],
  ));

  group.addCommand(examples(
    new Command("gc")
      .description(
        "Destroy the execution contexts that dbxr created (recorded in ~/.dbxr/contexts.jsonl) and that no\n" +
          "session uses any more: its session was destroyed, its session.json is gone, the session moved to\n" +
          "another context, or (with --idle) it has been idle that long. Live sessions are left alone; a\n" +
          "context that is already gone is fine. The registry is rewritten without the contexts removed.",
      )
      .option("--dry-run", "list what would be destroyed and why; destroy nothing")
      .option("--cluster-id <id>", "only contexts on this cluster")
      .option(
        "--idle <hours>",
        "also destroy the contexts of sessions idle for longer than this",
        positiveNumber,
      )
      .action(async (o, c) => {
        const { collectContexts, gcText } = await import("../repl/gc.ts");
        const r = await collectContexts(ctx, globals(c), {
          dryRun: Boolean(o.dryRun),
          clusterId: o.clusterId,
          idleHours: o.idle,
        });
        ctx.out.result(r.response, { text: gcText, exitCode: r.exitCode });
      }),
    [
      "dbxr repl gc --dry-run",
      "dbxr repl gc",
      "dbxr repl gc --cluster-id 0123-456789-abcdefgh --idle 24",
    ],
  ));
  group.addCommand(consolidateCommand(ctx));
  return group;
}
