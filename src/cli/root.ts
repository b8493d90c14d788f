// The program: the global flags, the wiring of the command groups (each in its own thin file, loaded by
// tree.ts), and the translation of commander's own errors into InvalidArgument.

import { Command, CommanderError } from "@commander-js/extra-typings";
import type { Ctx } from "../ctx.ts";
import { DbxrError } from "../errors.ts";
import { versionText } from "../about.ts";
import { examples, helpConfiguration } from "./help.ts";
import { applyGlobalFlags, GLOBAL_OPTIONS, type GlobalFlags } from "./options.ts";
import { toOption } from "./parse.ts";
import { reportError } from "./report.ts";

export type { GlobalFlags } from "./options.ts";

/** The global flags as seen from any (sub)command. */
export function globals(cmd: { optsWithGlobals(): unknown }): GlobalFlags {
  return cmd.optsWithGlobals() as GlobalFlags;
}

export { examples } from "./help.ts";

/**
 * The program with the given command groups (src/cli/tree.ts loads them: every one, or for a run of one
 * command only its own group).
 */
export function assembleProgram(ctx: Ctx, groups: Command[]): Command {
  const program = new Command("dbxr")
    .description(
      "A Databricks CLI for agents, people and CI: a stateful remote Python REPL, a job runner, and the " +
        "cluster, workspace and Unity Catalog commands around them. Auth as every Databricks tool: " +
        "DATABRICKS_* env vars or ~/.databrickscfg profiles.",
    )
    .version(versionText(), "-V, --version", "print the dbxr version, its Deno version and target")
    .hook("preAction", (_this, action) => applyGlobalFlags(ctx, globals(action)));
  for (const o of GLOBAL_OPTIONS) program.addOption(toOption(o));
  examples(program, [
    "dbxr find-cluster --name analytics",
    "dbxr create --cluster-id 0123-456789-abcdefgh --session-name demo",
    'dbxr exec --command "print(1 + 1)" --tag first',
    "dbxr cluster start 0123-456789-abcdefgh --wait",
    "dbxr auth describe --profile dev",
    "dbxr doctor",
  ]);

  for (const c of groups) program.addCommand(c);
  configureRecursively(program, ctx);
  return program as unknown as Command;
}

/** Commander copies these settings only to commands made with .command(), so apply them to all. */
export function configureRecursively(cmd: Command, ctx: Ctx) {
  cmd.exitOverride();
  cmd.showSuggestionAfterError(true);
  cmd.configureHelp(helpConfiguration());
  cmd.configureOutput({
    getOutHelpWidth: () => ctx.out.helpWidth,
    getOutHasColors: () => ctx.out.colors,
    writeOut: (s) => ctx.out.raw(s),
    writeErr: () => {}, // usage errors become one JSON InvalidArgument error instead
    outputError: () => {},
  });
  for (const sub of cmd.commands as Command[]) configureRecursively(sub, ctx);
}

/** Runs argv through the program; returns the exit code. Never exits the process. */
export async function runProgram(program: Command, ctx: Ctx, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0; // --help, --version
      const message = e.message.replace(/^error: /, "");
      ctx.out.error(
        new DbxrError("InvalidArgument", message, {
          hint: helpHintFor(program, argv),
          details: { commander_code: e.code },
        }),
      );
    } else {
      reportError(ctx, e);
    }
  }
  return ctx.out.exitCode;
}

/** `dbxr <the deepest command named in argv> --help`, skipping option values. */
function helpHintFor(program: Command, argv: string[]): string {
  const words: string[] = [];
  let cmd = program;
  for (const a of argv) {
    const sub = (cmd.commands as Command[]).find((c) => c.name() === a);
    if (!sub) continue;
    words.push(a);
    cmd = sub;
  }
  return `dbxr ${words.length ? words.join(" ") + " " : ""}--help`;
}
