// The `job` group: thin commands over src/jobs. `check` is static and local; run/status/watch/output/
// cancel/diagnose/list are added beside it, each in its own function.

import { Command } from "@commander-js/extra-typings";
import type { Ctx } from "../ctx.ts";
import { examples } from "./root.ts";

export function jobCommands(_ctx: Ctx): Command {
  const group = new Command("job").description("Run Python scripts as Databricks jobs, and check them first");
  examples(group, ["dbxr job check log_model.py --uc"]);
  return group as unknown as Command;
}
