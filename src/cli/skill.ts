// `skill install`: thin command over src/skill/install.ts.

import { Command } from "@commander-js/extra-typings";
import type { Ctx } from "../ctx.ts";
import { DEFAULT_SKILLS_DIR, installSkill, installText } from "../skill/install.ts";
import { examples, globals } from "./root.ts";

export function skillCommands(ctx: Ctx) {
  const group = new Command("skill").description(
    "The agent skill (SKILL.md and its references) for Claude Code and other agents",
  );
  examples(group, ["dbxr skill install", "dbxr skill install --dir ~/.claude/skills"]);

  group.addCommand(examples(
    new Command("install")
      .description(
        "Write the skill that matches this dbxr into <dir>/dbxr/ (relative to --project-dir, default the " +
          "current folder). Identical files are left alone; a file you changed is kept unless --force.",
      )
      .option("--dir <dir>", "the skills folder", DEFAULT_SKILLS_DIR)
      .option("--force", "replace files that differ from this version's skill")
      .action(async (o, c) => {
        const { report, exitCode } = await installSkill(ctx, {
          dir: o.dir,
          projectDir: globals(c).projectDir,
          force: Boolean(o.force),
        });
        ctx.out.result(report, { text: installText, exitCode });
      }),
    [
      "dbxr skill install",
      "dbxr skill install --project-dir ~/work/my-repo",
      "dbxr skill install --dir ~/.claude/skills --force",
    ],
  ));
  return group;
}
