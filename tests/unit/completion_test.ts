// The completion model is the command tree: every command, option and choice of buildProgram(), nothing more.

import type { Command } from "@commander-js/extra-typings";
import { buildProgram } from "../../src/cli/tree.ts";
import { completionModel, shortDescription, type TreeCommand } from "../../src/completion/model.ts";
import { bashScript, fishScript, zshScript } from "../../src/completion/scripts.ts";
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { fakeCtx } from "../helpers/fake_ctx.ts";

const program = await buildProgram(fakeCtx().ctx) as unknown as Command;
const nodes = completionModel(program as unknown as TreeCommand);
const node = (path: string) => nodes.find((n) => n.path.join(" ") === path)!;
const names = (path: string) => node(path).options.flatMap((o) => o.names);

function walk(cmd: Command, path: string[] = []): string[] {
  return [path.join(" "), ...(cmd.commands as Command[]).flatMap((c) => walk(c, [...path, c.name()]))];
}

Deno.test("one node per command of the tree, with its subcommands", () => {
  assertEquals(nodes.map((n) => n.path.join(" ")), walk(program));
  assertEquals(
    node("").subcommands.map((s) => s.name),
    (program.commands as Command[]).map((c) => c.name()),
  );
  assert(node("").subcommands.some((s) => s.name === "job"));
  assertEquals(node("job").subcommands.map((s) => s.name).slice(0, 2), ["check", "run"]);
});

Deno.test("options: the command's own, the global ones, --help; --version only at the top", () => {
  for (const n of nodes) {
    const all = n.options.flatMap((o) => o.names);
    for (const g of ["--project-dir", "--profile", "-p", "--json", "--text", "--help", "-h"]) {
      assert(all.includes(g), `${n.path.join(" ")} lacks ${g}`);
    }
    assertEquals(all.includes("--version"), n.path.length === 0, n.path.join(" "));
  }
  assert(names("job run").includes("--include"));
  assert(names("job run").includes("--no-wait"));
  assert(!names("exec").includes("--include"));
});

Deno.test("values: choices, folders and files come from the options' declarations", () => {
  const opt = (path: string, name: string) => node(path).options.find((o) => o.names.includes(name))!;
  assertEquals(opt("create", "--language").value, { kind: "words", words: ["python", "sql", "scala"] });
  assertEquals(opt("create", "--project-dir").value?.kind, "dir");
  assertEquals(opt("job run", "--include").value?.kind, "dir");
  assertEquals(opt("job run", "--cluster-spec").value?.kind, "file");
  assertEquals(opt("exec", "--tag").value?.kind, "any");
  assertEquals(opt("exec", "--force"), undefined);
  assertEquals(opt("create", "--force").value, undefined);
  assertEquals(node("completion").args, { kind: "words", words: ["bash", "zsh", "fish"] });
  assertEquals(node("job check").args?.kind, "file");
  assertEquals(node("job status").args, undefined);
});

Deno.test("short descriptions: one sentence, one line, at most 70 characters", () => {
  assertEquals(shortDescription("Show one cluster"), "Show one cluster");
  assertEquals(shortDescription("Wait again.\nThen record it."), "Wait again");
  const long = shortDescription("x ".repeat(60));
  assert(long.length <= 70 && long.endsWith("..."), long);
});

Deno.test("each script names every command and option", () => {
  for (const script of [bashScript(nodes, "0"), zshScript(nodes, "0"), fishScript(nodes, "0")]) {
    for (const n of nodes) {
      for (const s of n.subcommands) assertStringIncludes(script, s.name);
      for (const o of n.options) assertStringIncludes(script, o.names[0].replace(/^--?/, ""));
    }
  }
  assertStringIncludes(bashScript(nodes, "0"), "complete -F _dbxr dbxr");
  assertStringIncludes(zshScript(nodes, "0"), "#compdef dbxr");
  assertStringIncludes(fishScript(nodes, "0"), "complete -c dbxr -f");
});
