// The README's command reference, generated from the command tree (`deno task docs`, scripts/gen_docs.ts)
// so that it cannot drift from --help: a table of every command, then each group's full --help text.
// Pure: the caller reads and writes README.md. deno fmt then aligns the table (the test does the same).

import type { Command } from "@commander-js/extra-typings";
import { helpText, paragraphs, walkCommands } from "./help.ts";

// deno-lint-ignore no-explicit-any
type AnyCommand = Command<any, any, any>;

export const REFERENCE_START = "<!-- commands:start -->";
export const REFERENCE_END = "<!-- commands:end -->";

/** The width of the --help blocks in the reference: what a wide terminal shows. */
const HELP_WIDTH = 110;

/** `dbxr exec --command <code> --tag <tag> [options]`: required options spelled out, arguments last. */
export function synopsis(path: string[], cmd: AnyCommand): string {
  const required = cmd.options.filter((o) => o.mandatory).map((o) => o.flags.replace(/^-\w, /, ""));
  const optional = cmd.options.some((o) => !o.mandatory && !o.hidden);
  const args = cmd.registeredArguments.map((a) => {
    const name = a.name() + (a.variadic ? "..." : "");
    return a.required ? `<${name}>` : `[${name}]`;
  });
  return ["dbxr", ...path, ...required, ...(optional ? ["[options]"] : []), ...args].join(" ");
}

/** Markdown text for a table cell: one line, `|` escaped, `<x>` outside code spans kept as text. */
export function cellMarkdown(text: string): string {
  return paragraphs(text).replace(/\n+/g, " ").split(/(`[^`]*`)/).map((part, i) =>
    i % 2 === 1 ? part.replace(/\|/g, "\\|") : escapeProse(part)
  ).join("");
}

function escapeProse(s: string): string {
  // An underscore inside a word (spark_python_task) is text in GitHub Markdown; only one at a word's
  // edge (__file__) can start emphasis.
  const word = (c: string | undefined) => c !== undefined && /[A-Za-z0-9]/.test(c);
  return s.replace(/_/g, (c, i: number) => word(s[i - 1]) && word(s[i + 1]) ? c : "\\" + c)
    .replace(/[|<*]/g, (c) => "\\" + c);
}

/** Commands made with `{ hidden: true }` stay out of the reference, as out of --help's lists. */
function isHidden(cmd: AnyCommand): boolean {
  return Boolean((cmd as unknown as { _hidden?: boolean })._hidden);
}

/** The reference block, markers included. */
export function commandReference(program: AnyCommand): string {
  const all = walkCommands(program).filter(({ path, cmd }) => path.length > 0 && !isHidden(cmd));
  const leaves = all.filter(({ cmd }) => cmd.commands.length === 0);
  const rows = leaves.map(({ path, cmd }) =>
    `| \`${synopsis(path, cmd).replace(/\|/g, "\\|")}\` | ${cellMarkdown(cmd.description())} |`
  );
  const out = [
    REFERENCE_START,
    "<!-- Generated from the command tree by `deno task docs`: edit the commands in src/cli/, not this block. -->",
    "",
    "| command | what it does |",
    "| --- | --- |",
    ...rows,
    "",
    "The full `--help` of every command, with its options and examples (each also lists the global options of",
    '`dbxr --help` under "Global Options"):',
    "",
  ];
  out.push("<details>", "<summary><code>dbxr</code> (global options)</summary>", "");
  out.push("```text", "$ dbxr --help", helpText(program, HELP_WIDTH).trimEnd(), "```", "", "</details>", "");
  // One collapsed block per top-level command (a group with its subcommands, or a command alone).
  for (const top of (program.commands as readonly AnyCommand[]).filter((c) => !isHidden(c))) {
    const members = walkCommands(top, [top.name()]).filter(({ cmd }) => !isHidden(cmd));
    const names = members.filter(({ cmd }) => cmd.commands.length === 0).map(({ path }) => path.join(" "));
    out.push(
      "<details>",
      `<summary><code>dbxr ${top.name()}</code>${
        names.length > 1 || names[0] !== top.name() ? ` (${names.length} commands)` : ""
      }</summary>`,
      "",
    );
    for (const { path, cmd } of members) {
      const help = helpText(cmd, HELP_WIDTH, { globalOptions: false }).trimEnd();
      out.push("```text", `$ dbxr ${path.join(" ")} --help`, help, "```", "");
    }
    out.push("</details>", "");
  }
  out.push(REFERENCE_END);
  return out.join("\n");
}

/** README text with the block between the markers replaced; throws when the markers are missing. */
export function replaceReference(readme: string, block: string): string {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start) {
    throw new Error(`README.md has no ${REFERENCE_START} … ${REFERENCE_END} block to replace`);
  }
  return readme.slice(0, start) + block + readme.slice(end + REFERENCE_END.length);
}
