// Every command's --help works under the release permission flags, goes to stdout with exit 0 and ends
// with examples; usage errors are one JSON InvalidArgument error with exit 2.

import type { Command } from "@commander-js/extra-typings";
import { buildProgram } from "../../src/cli/tree.ts";
import { helpText, walkCommands } from "../../src/cli/help.ts";
import { Output } from "../../src/output.ts";
import { VERSION } from "../../src/version.ts";
import { assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { fakeCtx } from "../helpers/fake_ctx.ts";
import { runCli } from "../helpers/cli.ts";

const { ctx } = fakeCtx();
ctx.out = new Output({ stdout: () => {}, stderr: () => {}, stdoutIsTty: false, stderrIsTty: false });
const commands = walkCommands(await buildProgram(ctx) as unknown as Command);

Deno.test(`--help of all ${commands.length} commands under the scoped flags: stdout, exit 0, examples`, async () => {
  const results = await Promise.all(
    commands.map(({ path, cmd }) => runCli([...path, "--help"]).then((r) => ({ path, cmd, r }))),
  );
  for (const { path, cmd, r } of results) {
    const name = `dbxr ${path.join(" ")} --help`;
    assertEquals(r.code, 0, `${name}: ${r.stderr}`);
    assertStringIncludes(r.stdout, "Usage: dbxr", name);
    assertStringIncludes(r.stdout, "Examples:", name);
    assertEquals(r.stderr, "", name);
    // Piped, help is 80 columns wide, exactly as tests/unit/help_test.ts renders and checks it.
    assertEquals(r.stdout, helpText(cmd, 80), name);
  }
});

Deno.test("--help works with the caller's colour variables set (commander reads them)", async () => {
  const envs: Record<string, string>[] = [{ NO_COLOR: "" }, { FORCE_COLOR: "1" }, { CLICOLOR_FORCE: "1" }];
  for (const env of envs) {
    const r = await runCli(["cluster", "--help"], { env });
    assertEquals(r.code, 0, `${JSON.stringify(env)}: ${r.stdout}${r.stderr}`);
    assertStringIncludes(r.stdout, "Usage: dbxr cluster");
  }
});

Deno.test("--version and -V print the version, the Deno version and the target", async () => {
  for (const flag of ["--version", "-V"]) {
    const r = await runCli([flag]);
    assertEquals(r.code, 0);
    assertEquals(r.stdout, `dbxr ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})\n`);
  }
});

Deno.test("usage errors are InvalidArgument JSON with exit 2 and a help hint", async () => {
  for (
    const argv of [
      ["cluster", "get"],
      ["find-cluster"],
      ["cluster", "start", "x", "--timeout", "soon"],
      ["no-such-command"],
      ["cluster", "list", "--json", "--text"],
    ]
  ) {
    const r = await runCli(argv, { env: { HOME: "/nonexistent" } });
    assertEquals(r.code, 2, `${argv.join(" ")}: ${r.stdout}`);
    const e = r.json();
    assertEquals([e.status, e.error], ["InvalidArgument", "InvalidArgument"]);
    assertStringIncludes(e.hint as string, "--help");
  }
});
