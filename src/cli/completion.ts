// `completion bash|zsh|fish`: prints a completion script generated from this very command tree.

import { Argument, Command } from "@commander-js/extra-typings";
import { completionModel, type TreeCommand } from "../completion/model.ts";
import { completionScript, type Shell, SHELLS } from "../completion/scripts.ts";
import type { Ctx } from "../ctx.ts";
import { VERSION } from "../version.ts";
import { examples } from "./root.ts";

export function completionCommand(ctx: Ctx) {
  return examples(
    new Command("completion")
      .description(
        "Print a shell completion script for dbxr's commands, options and their values (files, folders, " +
          "choices). Load it in your shell's startup file, or save it where the shell looks for completions.",
      )
      .addArgument(new Argument("<shell>", "the shell").choices(SHELLS))
      .action((shell, _o, c) => {
        let root: Command = c as unknown as Command;
        while (root.parent) root = root.parent as Command;
        const nodes = completionModel(root as unknown as TreeCommand);
        ctx.out.raw(completionScript(shell as Shell, nodes, VERSION));
      }),
    [
      "dbxr completion bash > ~/.local/share/bash-completion/completions/dbxr",
      'eval "$(dbxr completion bash)"            # in ~/.bashrc',
      "source <(dbxr completion zsh)             # in ~/.zshrc, after compinit",
      "dbxr completion fish > ~/.config/fish/completions/dbxr.fish",
    ],
  );
}
