// `dbxr repl consolidate`: the session's steps as one script (registered in the `repl` group of
// repl_extra.ts).

import { Command } from "@commander-js/extra-typings";
import type { Ctx } from "../ctx.ts";
import { examples, globals } from "./root.ts";

export function consolidateCommand(ctx: Ctx) {
  return examples(
    new Command("consolidate")
      .description(
        "Write the session's steps as one Python script in the seed's consolidate format: per tag the last " +
          "successful attempt, %pip lines as a `# Requires:` header, imports hoisted and deduplicated, " +
          "sub_llm calls kept with the helpers that define them. The code is never changed otherwise. " +
          "The script is then checked with the job runner's checks, whose findings come with the answer. " +
          "Works offline, on session.json files of the seed's tool too (they are not modified).",
      )
      .option("--out <file>", "where to write the script (default: <project-dir>/<session_name>.py)")
      .option("--include-failed", "also keep tags whose every attempt failed (their last attempt)")
      .option("--force", "overwrite the output file if it exists")
      .action(async (o, c) => {
        const { consolidateSession, consolidateText } = await import("../repl/consolidate.ts");
        const r = await consolidateSession(ctx, {
          projectDir: globals(c).projectDir,
          out: o.out,
          includeFailed: Boolean(o.includeFailed),
          force: Boolean(o.force),
        });
        ctx.out.result(r, { text: consolidateText });
      }),
    [
      "dbxr repl consolidate",
      "dbxr repl consolidate --out jobs/train_model.py --force",
      "dbxr repl consolidate --project-dir examples/churn && dbxr job run examples/churn/churn.py",
    ],
  );
}
