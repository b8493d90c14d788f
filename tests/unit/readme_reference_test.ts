// README.md's command reference is generated from the command tree (`deno task docs`); this fails when
// a command, option or description changed and the README was not regenerated. It starts `deno fmt`
// (on stdin, nothing written) to format the fresh block exactly as the generator does.

import type { Command } from "@commander-js/extra-typings";
import { buildProgram } from "../../src/cli/tree.ts";
import {
  cellMarkdown,
  commandReference,
  REFERENCE_END,
  REFERENCE_START,
  replaceReference,
  synopsis,
} from "../../src/cli/reference.ts";
import { docsCtx } from "../../scripts/docs_ctx.ts";
import { ROOT_DIR } from "../../scripts/flags.ts";
import { assert, assertEquals, assertStringIncludes, assertThrows } from "../helpers/assert.ts";

async function denoFmtMarkdown(text: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--config", `${ROOT_DIR}deno.json`, "--ext", "md", "-"],
    cwd: ROOT_DIR,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close();
  const out = await child.output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test("README.md's command reference matches the command tree (else run `deno task docs`)", async () => {
  const readme = await Deno.readTextFile(`${ROOT_DIR}README.md`);
  const program = await buildProgram(docsCtx()) as unknown as Command;
  const expected = await denoFmtMarkdown(replaceReference(readme, commandReference(program)));
  if (expected !== readme) {
    const a = readme.split("\n"), b = expected.split("\n");
    const i = a.findIndex((l, k) => l !== b[k]);
    throw new Error(
      "README.md's command reference is out of date: run `deno task docs` and commit README.md.\n" +
        `First difference at README.md line ${i + 1}:\n  README:    ${a[i]}\n  generated: ${b[i]}`,
    );
  }
});

Deno.test("the reference lists every command with its synopsis and full help", async () => {
  const program = await buildProgram(docsCtx()) as unknown as Command;
  const ref = commandReference(program);
  assert(ref.startsWith(REFERENCE_START) && ref.endsWith(REFERENCE_END));
  assertStringIncludes(ref, "| `dbxr exec --command <code> --tag <tag> [options]` |");
  assertStringIncludes(ref, "| `dbxr job run [options] <file> [args...]` |");
  assertStringIncludes(ref, "$ dbxr job run --help\nUsage: dbxr job run [options] <file> [args...]");
  assertStringIncludes(ref, "<summary><code>dbxr cluster</code> (6 commands)</summary>");
  assertStringIncludes(ref, "<summary><code>dbxr doctor</code></summary>");
});

Deno.test("reference pieces: synopsis, Markdown escaping, marker replacement", async () => {
  const program = await buildProgram(docsCtx()) as unknown as Command;
  const find = (program.commands as Command[]).find((c) => c.name() === "find-cluster")!;
  assertEquals(synopsis(["find-cluster"], find), "dbxr find-cluster --name <substr>");
  assertEquals(
    cellMarkdown("Runs __file__ in spark_python_task <dir>/a|b, *.pyc; `a|b <x>`"),
    "Runs \\_\\_file\\_\\_ in spark_python_task \\<dir>/a\\|b, \\*.pyc; `a\\|b <x>`",
  );
  assertEquals(cellMarkdown("one\nparagraph"), "one paragraph");
  assertEquals(
    replaceReference(
      `a\n${REFERENCE_START}\nold\n${REFERENCE_END}\nb`,
      `${REFERENCE_START}X${REFERENCE_END}`,
    ),
    `a\n${REFERENCE_START}X${REFERENCE_END}\nb`,
  );
  assertThrows(
    () => replaceReference("no markers", "x"),
    (e) => assertStringIncludes(String(e), "commands:start"),
  );
});
