// The lazily loaded command tree (src/cli/tree.ts): its table of top-level names is the tree's, and a run of
// one command builds only that command's group.
import type { Command } from "@commander-js/extra-typings";
import { buildProgram, commandWord, GROUPS } from "../../src/cli/tree.ts";
import { assertEquals } from "../helpers/assert.ts";
import { fakeCtx } from "../helpers/fake_ctx.ts";

const names = (p: Command) => (p.commands as Command[]).flatMap((c) => [c.name(), ...c.aliases()]);

Deno.test("GROUPS names exactly the top-level commands (and aliases) of the whole tree, in order", async () => {
  const program = await buildProgram(fakeCtx().ctx);
  assertEquals(names(program), GROUPS.flatMap((g) => g.names));
});

Deno.test("a run of one command loads only its group; help, completion and unknown words load all", async () => {
  const all = names(await buildProgram(fakeCtx().ctx));
  const built = async (argv: string[]) => names(await buildProgram(fakeCtx().ctx, argv));
  assertEquals(await built(["exec", "--command", "cluster", "--tag", "x"]), [
    "create",
    "exec",
    "await",
    "cancel",
    "destroy",
    "status",
  ]);
  assertEquals(await built(["--project-dir", "exec", "cluster", "list"]), ["cluster"]);
  assertEquals(await built(["--project-dir=x", "--json", "-p", "dev", "job", "run", "a.py"]), ["job"]);
  assertEquals(await built(["--version"]), []);
  for (
    const argv of [[], ["--help"], ["completion", "bash"], ["exce"], ["help", "exec"], ["-pdev", "exec"]]
  ) {
    assertEquals(await built(argv), all, argv.join(" "));
  }
});

Deno.test("commandWord skips the global options and their values", () => {
  assertEquals(commandWord(["--host", "https://x", "--debug", "status"]), "status");
  assertEquals(commandWord(["--text", "uc", "catalogs"]), "uc");
  assertEquals(commandWord(["--unknown", "exec"]), undefined);
  assertEquals(commandWord(["bogus"]), undefined);
});
