// --help of every command, rendered as a terminal of 80 and of 200 columns shows it: no line wider than
// the terminal, no line broken before it had to be (a hard "\n" in a description), no `(default: [])`,
// an Examples block, and the global flags that the examples use listed under every subcommand.

import type { Command } from "@commander-js/extra-typings";
import { buildProgram } from "../../src/cli/tree.ts";
import { firstSentence, helpText, paragraphs, walkCommands, wrapExample } from "../../src/cli/help.ts";
import { helpWidthFor, Output } from "../../src/output.ts";
import { docsCtx } from "../../scripts/docs_ctx.ts";
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";

const program = await buildProgram(docsCtx()) as unknown as Command;
const commands = walkCommands(program);

const indentOf = (l: string) => l.length - l.trimStart().length;

/** Lines that continue the line before them (same paragraph or same option description). */
function prematureBreaks(text: string, width: number): string[] {
  const lines = text.split("\n");
  const bad: string[] = [];
  const examplesAt = lines.indexOf("Examples:");
  for (let i = 0; i + 1 < lines.length; i++) {
    const [a, b] = [lines[i], lines[i + 1]];
    if (a.trim() === "" || b.trim() === "" || a.endsWith(":")) continue;
    if (examplesAt >= 0 && i > examplesAt) {
      // A wrapped example: a continuation line ends with " \" and the next is indented deeper.
      if (!a.endsWith(" \\")) continue;
      const next = b.trim().split(/\s+/)[0];
      if (a.length - 2 + 1 + next.length + 2 <= width) bad.push(`${a} ⏎ ${b}`);
      continue;
    }
    const continues = indentOf(a) === 0 ? indentOf(b) === 0 : indentOf(b) > indentOf(a) || (
      indentOf(b) > 2 && !b.trimStart().startsWith("-")
    );
    if (!continues) continue;
    const next = b.trim().split(/\s+/)[0];
    if (a.length + 1 + next.length <= width) bad.push(`${a} ⏎ ${b}`);
  }
  return bad;
}

for (const width of [80, 200]) {
  Deno.test(`--help of all ${commands.length} commands at ${width} columns`, () => {
    for (const { path, cmd } of commands) {
      const name = `dbxr ${[...path, "--help"].join(" ")} @${width}`;
      const text = helpText(cmd, width);
      const wide = text.split("\n").filter((l) => l.length > width);
      assertEquals(wide, [], `${name}: lines wider than ${width}`);
      assertEquals(prematureBreaks(text, width), [], `${name}: lines broken before the width`);
      assert(!text.includes("(default: [])"), `${name}: shows (default: [])`);
      assertStringIncludes(text, "\nExamples:\n  dbxr", name);
      if (path.length > 0) {
        const globals = text.slice(text.indexOf("Global Options:"));
        assert(text.includes("Global Options:"), `${name}: no Global Options`);
        for (const flag of ["--project-dir", "--profile", "--json", "--text"]) {
          assertStringIncludes(globals, flag, `${name}: ${flag}`);
        }
        assert(!globals.includes("--version"), `${name}: --version is the program's, not a global option`);
      }
    }
  });
}

Deno.test("descriptions are paragraphs: a single line break is a space, a blank line stays", () => {
  assertEquals(paragraphs("one\ntwo\n  three"), "one two three");
  assertEquals(paragraphs("one\n\ntwo\nthree"), "one\n\ntwo three");
  for (const { path, cmd } of commands) {
    const d = helpText(cmd, 10_000).split("\n\n")[1];
    assert(!/[^\n]\n[^\n]/.test(d), `dbxr ${path.join(" ")}: the description is not one paragraph: ${d}`);
  }
});

Deno.test("first sentences summarise commands; e.g. does not end one", () => {
  assertEquals(firstSentence("Run it. Then more."), "Run it");
  assertEquals(firstSentence("Filter (e.g. cpu-ml) keys. More."), "Filter (e.g. cpu-ml) keys");
  assertEquals(firstSentence("No full stop"), "No full stop");
});

Deno.test("examples wrap at spaces outside quotes, with shell continuations", () => {
  assertEquals(wrapExample("dbxr doctor", 80), ["  dbxr doctor"]);
  const long = 'dbxr exec --command "print(1 + 1)" --tag first --timeout 1800 --project-dir examples/x';
  const lines = wrapExample(long, 40);
  assert(lines.every((l) => l.length <= 40), lines.join("\n"));
  assert(lines.slice(0, -1).every((l) => l.endsWith(" \\")));
  assert(lines.some((l) => l.includes('"print(1 + 1)"')), "a quoted word is never split");
  assertEquals(lines.map((l) => l.trim().replace(/ \\$/, "")).join(" "), long);
});

Deno.test("help width: the terminal's up to 120 columns, 80 when not a terminal", () => {
  assertEquals([helpWidthFor(undefined), helpWidthFor(0), helpWidthFor(100), helpWidthFor(300)], [
    80,
    80,
    100,
    120,
  ]);
  assertEquals(helpWidthFor(20), 40);
  const sinks = { stdout: () => {}, stderr: () => {}, stderrIsTty: false, columns: 200 };
  assertEquals(new Output({ ...sinks, stdoutIsTty: true }).helpWidth, 120);
  assertEquals(new Output({ ...sinks, stdoutIsTty: false }).helpWidth, 80);
});
