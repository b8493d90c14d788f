// Every `dbxr ...` command and flag that the skill mentions exists in the command tree, so an agent that
// follows the skill never meets an unknown command.

import type { Command } from "@commander-js/extra-typings";
import { buildProgram } from "../../src/cli/tree.ts";
import { completionModel, type CompletionNode, type TreeCommand } from "../../src/completion/model.ts";
import { SKILL_FILES } from "../../src/skill/files.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { fakeCtx } from "../helpers/fake_ctx.ts";

/** Names the skill may mention before they exist (none now: every one of them is in the command tree). */
const PENDING = new Set<string>([]);

const nodes = completionModel(
  await buildProgram(fakeCtx().ctx) as unknown as Command as unknown as TreeCommand,
);
const byPath = new Map<string, CompletionNode>(nodes.map((n) => [n.path.join(" "), n]));

/** The `dbxr ...` invocations in a markdown text: in code spans and in code blocks, up to a pipe or comment. */
export function mentions(markdown: string): string[] {
  const found: string[] = [];
  const take = (text: string) => {
    for (const m of text.matchAll(/(?:^|[\s(`"=])dbxr((?:[ \t]+[^\s#;&`]+)*)/g)) {
      found.push(m[1].split(/\s\|\|?\s|\s&&\s/)[0].trim());
    }
  };
  let inBlock = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) {
      inBlock = !inBlock;
      continue;
    }
    if (inBlock) take(line.replace(/\s#.*$/, ""));
    else for (const span of line.matchAll(/`([^`]+)`/g)) take(span[1]);
  }
  return found;
}

/** Problems with one invocation: an unknown subcommand after a group, or a flag the command lacks. */
function check(invocation: string): string[] {
  const tokens = invocation.replace(/\\\|/g, "|").split(/\s+/).filter(Boolean);
  const problems: string[] = [];
  let path: string[] = [];
  let i = 0;
  // Alternatives such as `status|watch|output` name several subcommands at one level.
  for (; i < tokens.length; i++) {
    const node = byPath.get(path.join(" "));
    const alternatives = tokens[i].replace(/^\[|\]$/g, "").split("|");
    const subs = node?.subcommands.map((s) => s.name) ?? [];
    const isPending = (w: string) => PENDING.has([...path, w].join(" "));
    if (!alternatives.every((w) => /^[a-z][a-z-]*$/.test(w))) break;
    if (alternatives.length > 1) {
      for (const alt of alternatives) {
        problems.push(...check([...path, alt, ...tokens.slice(i + 1)].join(" ")));
      }
      return problems;
    }
    if (!subs.includes(alternatives[0]) && !isPending(alternatives[0])) {
      if (subs.length > 0 && !/^[A-Z]/.test(tokens[i])) {
        problems.push(`unknown command: dbxr ${[...path, tokens[i]].join(" ")}`);
      }
      break;
    }
    path = [...path, alternatives[0]];
  }
  const node = byPath.get(path.join(" "));
  const options = new Set(node?.options.flatMap((o) => o.names) ?? []);
  for (const t of tokens.slice(i)) {
    for (const flag of t.matchAll(/(?:^|[[|(])(--?[a-zA-Z][\w-]*)/g)) {
      const name = flag[1];
      if (options.has(name) || PENDING.has(`${path.join(" ")} ${name}`)) continue;
      if (!node && PENDING.has(path.join(" "))) continue;
      problems.push(`unknown option: dbxr ${path.join(" ")} ${name}`);
    }
  }
  return problems;
}

Deno.test("every dbxr command and flag the skill mentions exists (or is one of issue 10's pending names)", () => {
  const problems: string[] = [];
  let count = 0;
  for (const [file, text] of Object.entries(SKILL_FILES)) {
    for (const m of mentions(text)) {
      count++;
      for (const p of check(m)) problems.push(`${file}: ${p}   (in: dbxr ${m})`);
    }
  }
  assert(count > 50, `only ${count} mentions found`);
  assertEquals(problems, []);
});

Deno.test("the checker itself finds a wrong command and a wrong flag", () => {
  assertEquals(check("job rn x.py"), ["unknown command: dbxr job rn"]);
  assertEquals(check("exec --comand x --tag t"), ["unknown option: dbxr exec --comand"]);
  assertEquals(check("job status\\|watch\\|nope RUN_ID"), ["unknown command: dbxr job nope"]);
  assertEquals(check("create --cluster-id ID --session-name N --project-dir d --force"), []);
  assertEquals(mentions("run `dbxr await --timeout 1200` or\n```sh\ndbxr cancel   # stop\n```"), [
    "await --timeout 1200",
    "cancel",
  ]);
});
