// Commander's commands for the seed's REPL commands, built from their declaration in repl_commands.ts:
// help, completion, the docs and every usage error come from here; running them is runRepl's, which
// main.ts also calls directly for the command lines that src/cli/fast.ts reads without commander.

import { Command } from "@commander-js/extra-typings";
import type { Ctx } from "../ctx.ts";
import { examples, globals } from "./root.ts";
import type { GlobalFlags } from "./options.ts";
import { toOption } from "./parse.ts";
import { invocationFrom, REPL_COMMANDS, type ReplInvocation, runRepl } from "./repl_commands.ts";

/** What a parsed REPL command line goes to: runRepl, or a test's recorder. */
export type ReplDispatch = (inv: ReplInvocation, g: GlobalFlags) => Promise<void>;

export function replCommands(ctx: Ctx, dispatch: ReplDispatch = (inv, g) => runRepl(ctx, inv, g)): Command[] {
  return REPL_COMMANDS.map((spec) => {
    const cmd = new Command(spec.name).description(spec.description);
    for (const o of spec.options) cmd.addOption(toOption(o));
    cmd.action(async (_o, c) => {
      const inv = invocationFrom(
        spec.name,
        c.opts() as Record<string, unknown>,
        (attr) => c.getOptionValueSource(attr) === "cli",
      );
      await dispatch(inv, globals(c));
    });
    return examples(cmd as unknown as Command, [...spec.examples]);
  });
}
